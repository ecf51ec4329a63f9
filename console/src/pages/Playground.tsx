// Playground: upload images straight to S3 (POST /v1/uploads, then the presigned POST), set the prompt and options,
// see the quote, run the job asynchronously, follow its progress, compare before/after and download.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api, errorText, postToS3 } from '../api'
import { Compare } from '../components/Compare'
import { ErrorNotice, InfoNotice, Link, PageFrame, Section, StatusBadge } from '../components/ui'
import { money } from '../format'
import { useAction, useLoad } from '../hooks'
import type { FileView, Job, Model, Page, Quote, Upload } from '../types'

const SIZES = ['auto', '1024x1024', '1536x1024', '1024x1536']
const ENDED = new Set(['succeeded', 'failed', 'canceled'])
const ACCEPTED = ['image/png', 'image/jpeg', 'image/webp']

interface Picked {
  name: string
  preview: string // a blob: URL of the local file
  fileId: string | null
  status: 'uploading' | 'ready' | 'failed'
  error?: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function uploadFile(file: File): Promise<string> {
  const upload = await api.post<Upload>('/v1/uploads', { filename: file.name, bytes: file.size, mime_type: file.type })
  await postToS3(upload.upload, file)
  for (let attempt = 0; attempt < 40; attempt++) {
    const view = await api.get<FileView>(`/v1/files/${encodeURIComponent(upload.id)}`)
    if (view.status === 'ready') return upload.id
    if (view.status === 'rejected') throw new Error(view.error?.message ?? 'the file was rejected')
    await sleep(500)
  }
  throw new Error('the upload was not read in time; try again')
}

export function PlaygroundPage(_props: PageProps) {
  const models = useLoad(() => api.get<Page<Model>>('/v1/models'))
  const [picked, setPicked] = useState<Picked[]>([])
  const [prompt, setPrompt] = useState('')
  const [model, setModel] = useState('gpt-image-2')
  const [size, setSize] = useState('1024x1024')
  const [quality, setQuality] = useState('low')
  const [count, setCount] = useState(1)
  const [quote, setQuote] = useState<Quote | null>(null)
  const [job, setJob] = useState<Job | null>(null)
  const quoting = useAction()
  const running = useAction()
  const fileInput = useRef<HTMLInputElement>(null)

  const qualities = models.data?.data.find((entry) => entry.id === model)?.qualities ?? ['low', 'medium', 'high', 'auto']
  const ready = picked.every((file) => file.status === 'ready')
  const body = useMemo(() => {
    const request: Record<string, unknown> = { model, prompt, size, quality, n: count }
    if (picked.length) request.images = picked.map((file) => ({ file_id: file.fileId }))
    return request
  }, [model, prompt, size, quality, count, picked])

  useEffect(() => setQuote(null), [body]) // a quote is for exactly the request shown

  const pick = (event: Event) => {
    const files = [...((event.currentTarget as HTMLInputElement).files ?? [])]
    picked.forEach((file) => URL.revokeObjectURL(file.preview))
    const entries: Picked[] = files.map((file) => ({ name: file.name, preview: URL.createObjectURL(file), fileId: null, status: 'uploading' }))
    setPicked(entries)
    files.forEach((file, index) => {
      const settle = (change: Partial<Picked>) =>
        setPicked((current) => current.map((entry) => (entry.preview === entries[index]!.preview ? { ...entry, ...change } : entry)))
      if (!ACCEPTED.includes(file.type)) {
        settle({ status: 'failed', error: 'PNG, JPEG or WebP only' })
        return
      }
      uploadFile(file).then(
        (fileId) => settle({ fileId, status: 'ready' }),
        (reason: unknown) => settle({ status: 'failed', error: errorText(reason) }),
      )
    })
  }

  const getQuote = () => void quoting.run(async () => setQuote(await api.post<Quote>('/v1/images/quote', body)))

  const runJob = (event: Event) => {
    event.preventDefault()
    void running.run(async () => {
      const route = picked.length ? '/v1/images/edits' : '/v1/images/generations'
      const submitted = await api.post<Job>(route, body, { 'Idempotency-Key': crypto.randomUUID() })
      setJob(submitted)
      let current = submitted
      while (!ENDED.has(current.status)) {
        await sleep(1000)
        current = await api.get<Job>(`/v1/jobs/${encodeURIComponent(submitted.id)}`)
        setJob(current)
      }
    })
  }

  const output = job?.status === 'succeeded' ? job.data[0]?.url ?? null : null
  return (
    <PageFrame title="Playground">
      <form class="stack" onSubmit={runJob}>
        <Section title="1. Images (optional: without one, a new image is generated)">
          <div class="field">
            <label for="playground-images">Images to edit (PNG, JPEG or WebP, up to 50 MB each)</label>
            <input id="playground-images" ref={fileInput} type="file" accept={ACCEPTED.join(',')} multiple onChange={pick} />
          </div>
          {picked.length > 0 && (
            <ul class="picked" aria-live="polite">
              {picked.map((file) => (
                <li key={file.preview}>
                  <img src={file.preview} alt={`Selected: ${file.name}`} width={64} height={64} class="thumb" />
                  <span>{file.name}: {file.status === 'uploading' ? 'uploading…' : file.status === 'ready' ? 'uploaded' : `failed (${file.error})`}</span>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="2. What to do">
          <div class="field">
            <label for="playground-prompt">Prompt</label>
            <textarea id="playground-prompt" required rows={3} maxLength={32000} value={prompt}
              onInput={(event) => setPrompt(event.currentTarget.value)} />
          </div>
          <div class="row wrap">
            <div class="field">
              <label for="playground-model">Model</label>
              <select id="playground-model" value={model} onChange={(event) => setModel(event.currentTarget.value)}>
                {(models.data?.data ?? [{ id: model } as Model]).map((entry) => <option key={entry.id} value={entry.id}>{entry.id}</option>)}
              </select>
            </div>
            <div class="field">
              <label for="playground-size">Size</label>
              <select id="playground-size" value={size} onChange={(event) => setSize(event.currentTarget.value)}>
                {SIZES.map((value) => <option key={value} value={value}>{value}</option>)}
              </select>
            </div>
            <div class="field">
              <label for="playground-quality">Quality</label>
              <select id="playground-quality" value={quality} onChange={(event) => setQuality(event.currentTarget.value)}>
                {qualities.map((value) => <option key={value} value={value}>{value}</option>)}
              </select>
            </div>
            <div class="field">
              <label for="playground-n">Images (n)</label>
              <input id="playground-n" type="number" min={1} max={4} value={count}
                onInput={(event) => setCount(Math.max(1, Math.min(4, Number(event.currentTarget.value) || 1)))} />
            </div>
          </div>
        </Section>
        <Section title="3. Quote and run">
          <div class="row wrap">
            <button type="button" class="secondary" onClick={getQuote} disabled={!prompt || !ready || quoting.busy}>Get a quote</button>
            <button type="submit" disabled={!quote || !ready || running.busy}>Run</button>
          </div>
          {quote && (
            <p role="status" data-testid="quote">
              Expected cost <strong>{money(quote.expected_usd)}</strong>; {money(quote.hold_usd)} is held from your balance while it runs.
            </p>
          )}
          {!quote && prompt && <p class="muted">Get a quote to see the price before running.</p>}
          <ErrorNotice message={quoting.error ?? running.error} />
        </Section>
      </form>
      {job && (
        <Section title="Result">
          <p role="status" aria-live="polite">
            Job <Link href={`/jobs/${job.id}`} class="mono">{job.id}</Link>: <StatusBadge status={job.status} />
            {job.status === 'succeeded' && <> · charged {money(job.usage?.cost_usd ?? 0)}</>}
          </p>
          {!ENDED.has(job.status) && <progress aria-label="Job progress" max={2} value={job.status === 'running' ? 1 : 0} />}
          {job.error && <ErrorNotice message={`${job.error.code}: ${job.error.message}`} />}
          {output && picked[0] && <Compare before={picked[0].preview} after={output} />}
          {output && !picked[0] && <img src={output} alt="The generated image" class="result" />}
          {job.status === 'succeeded' && (
            <ul class="downloads">
              {job.data.map((image, index) => image.url && (
                <li key={index}><a href={image.url} download={`${job.id}-${index + 1}`} target="_blank" rel="noopener noreferrer">Download image {index + 1}<span class="visually-hidden"> (opens in a new tab)</span></a></li>
              ))}
            </ul>
          )}
          {job.status === 'succeeded' && <InfoNotice>Done. The job is in your <Link href="/jobs">job log</Link>.</InfoNotice>}
        </Section>
      )}
    </PageFrame>
  )
}
