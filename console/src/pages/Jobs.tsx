// The job log (filters, thumbnails, status, cost, paging) and a job's page (inputs, outputs, events, webhook
// deliveries with a redeliver button).
import { useEffect, useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { ApiError, api, apiUrl } from '../api'
import { JobThumbs, Thumb, useJobImages } from '../components/Thumbs'
import { ErrorNotice, InfoNotice, Link, Loading, PageFrame, Section, StatusBadge, TableWrap } from '../components/ui'
import { money, when } from '../format'
import { useAction, useLoad } from '../hooks'
import { navigate } from '../router'
import { parseSse } from '../sse'
import type { Job, Page } from '../types'

const ENDED = new Set(['succeeded', 'failed', 'canceled'])

function unixOf(day: string, endOfDay: boolean): number | undefined {
  if (!day) return undefined
  return Date.parse(`${day}T00:00:00Z`) / 1000 + (endOfDay ? 86_400 : 0)
}

export function JobsPage(props: PageProps) {
  const status = props.query.get('status') ?? ''
  const kind = props.query.get('kind') ?? ''
  const from = props.query.get('from') ?? ''
  const to = props.query.get('to') ?? ''
  const [cursors, setCursors] = useState<string[]>([])
  const after = cursors[cursors.length - 1]
  const jobs = useLoad(
    () => api.get<Page<Job>>('/v1/jobs', {
      limit: 20, status, kind, after,
      created_after: from ? (unixOf(from, false)! - 1) : undefined, created_before: unixOf(to, true),
    }),
    [status, kind, from, to, after],
  )
  const setFilter = (name: string, value: string) => {
    const query = new URLSearchParams(props.query)
    if (value) query.set(name, value)
    else query.delete(name)
    setCursors([])
    navigate(`/jobs${query.toString() ? `?${query}` : ''}`, true)
  }
  return (
    <PageFrame title="Jobs" actions={<button type="button" class="secondary small" onClick={jobs.reload}>Refresh</button>}>
      <form class="row wrap card" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={(event) => setFilter('status', event.currentTarget.value)}>
            <option value="">Any</option>
            {['queued', 'running', 'succeeded', 'failed', 'canceled'].map((value) => <option key={value} value={value}>{value}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="filter-kind">Kind</label>
          <select id="filter-kind" value={kind} onChange={(event) => setFilter('kind', event.currentTarget.value)}>
            <option value="">Any</option>
            <option value="edit">edit</option>
            <option value="generation">generation</option>
          </select>
        </div>
        <div class="field">
          <label for="filter-from">Created from</label>
          <input id="filter-from" type="date" value={from} onChange={(event) => setFilter('from', event.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="filter-to">Created to</label>
          <input id="filter-to" type="date" value={to} onChange={(event) => setFilter('to', event.currentTarget.value)} />
        </div>
      </form>
      <ErrorNotice message={jobs.error} />
      <Loading loading={jobs.loading && !jobs.data} />
      {jobs.data && (
        <TableWrap label="Jobs">
          <thead>
            <tr><th scope="col">Images</th><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Model</th><th scope="col">Cost</th><th scope="col">Created</th></tr>
          </thead>
          <tbody>
            {jobs.data.data.map((job) => (
              <tr key={job.id} data-job-id={job.id}>
                <td><JobThumbs job={job} /></td>
                <td><Link href={`/jobs/${job.id}`} class="mono">{job.id}</Link><div class="muted">{job.kind}{job.user ? ` · ${job.user}` : ''}</div></td>
                <td><StatusBadge status={job.status} /></td>
                <td>{job.model}</td>
                <td>{money(job.usage?.cost_usd ?? 0)}</td>
                <td>{when(job.created_at)}</td>
              </tr>
            ))}
            {jobs.data.data.length === 0 && <tr><td colSpan={6} class="muted">No jobs match.</td></tr>}
          </tbody>
        </TableWrap>
      )}
      <div class="row">
        {cursors.length > 0 && <button type="button" class="secondary" onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>}
        {jobs.data?.has_more && jobs.data.next_cursor && (
          <button type="button" class="secondary" onClick={() => setCursors([...cursors, jobs.data!.next_cursor!])}>Older</button>
        )}
      </div>
    </PageFrame>
  )
}

export function JobPage(props: PageProps) {
  const jobId = props.params.jobId!
  const job = useLoad(() => api.get<Job>(`/v1/jobs/${encodeURIComponent(jobId)}`), [jobId])
  const ended = job.data ? ENDED.has(job.data.status) : false
  useEffect(() => {
    if (!job.data || ended) return
    const timer = setTimeout(job.reload, 1500)
    return () => clearTimeout(timer)
  }, [job.data, ended])
  return (
    <PageFrame title={`Job ${jobId}`}>
      <p><Link href="/jobs">← All jobs</Link></p>
      <ErrorNotice message={job.error} />
      <Loading loading={job.loading && !job.data} />
      {job.data && <JobDetail job={job.data} onChange={job.reload} />}
    </PageFrame>
  )
}

function JobDetail(props: { job: Job; onChange: () => void }) {
  const job = props.job
  const images = useJobImages(job)
  const ended = ENDED.has(job.status)
  return (
    <>
      <Section title="Summary">
        <dl class="facts">
          <dt>Status</dt><dd><StatusBadge status={job.status} /></dd>
          <dt>Kind</dt><dd>{job.kind}</dd>
          <dt>Model</dt><dd>{job.model}</dd>
          <dt>Cost</dt><dd>{money(job.usage?.cost_usd ?? 0)}{job.usage?.reserved_usd ? ` (held ${money(job.usage.reserved_usd)})` : ''}</dd>
          <dt>Created</dt><dd>{when(job.created_at)}</dd>
          <dt>Completed</dt><dd>{when(job.completed_at)}</dd>
          {job.user && <><dt>End user</dt><dd>{job.user}</dd></>}
          {job.error && <><dt>Error</dt><dd>{job.error.code}: {job.error.message}</dd></>}
          <dt>Prompt</dt><dd>{String(job.request.prompt ?? '')}</dd>
        </dl>
      </Section>
      <Section title="Images">
        <ErrorNotice message={images.error} />
        {images.data && (
          <div class="gallery">
            {images.data.inputs.map((image, index) => (
              <figure key={`in-${index}`}><Thumb url={image.url} alt={`Input ${index + 1}`} size={160} /><figcaption>Input {index + 1}</figcaption></figure>
            ))}
            {images.data.outputs.map((image, index) => (
              <figure key={`out-${index}`}>
                <Thumb url={image.url} alt={`Output ${index + 1}`} size={160} />
                <figcaption><a href={image.url} target="_blank" rel="noopener noreferrer">Output {index + 1}<span class="visually-hidden"> (opens in a new tab)</span></a></figcaption>
              </figure>
            ))}
            {images.data.inputs.length + images.data.outputs.length === 0 && <p class="muted">No images.</p>}
          </div>
        )}
      </Section>
      <Section title="Events">{ended ? <JobEvents jobId={job.id} /> : <p class="muted" role="status">The job is {job.status}; its events show when it ends.</p>}</Section>
      <Section title="Webhook deliveries"><Deliveries job={job} onChange={props.onChange} /></Section>
    </>
  )
}

function JobEvents(props: { jobId: string }) {
  const events = useLoad(async () => {
    const response = await fetch(apiUrl(`/v1/jobs/${encodeURIComponent(props.jobId)}/events`), {
      credentials: 'same-origin', headers: { Accept: 'text/event-stream' },
    })
    if (!response.ok) throw new ApiError(response.status, `events: ${response.status}`)
    return parseSse(await response.text())
  }, [props.jobId])
  return (
    <>
      <ErrorNotice message={events.error} />
      {events.data && (
        <ol class="events">
          {events.data.map((event, index) => {
            let detail = ''
            try {
              const data = JSON.parse(event.data) as { status?: string; created_at?: number; started_at?: number }
              detail = data.status ? `status ${data.status}` : ''
            } catch {
              detail = event.data.slice(0, 80)
            }
            return <li key={index}><span class="mono">{event.event}</span> {detail && <span class="muted">{detail}</span>}</li>
          })}
        </ol>
      )}
    </>
  )
}

function Deliveries(props: { job: Job; onChange: () => void }) {
  const action = useAction()
  const [sent, setSent] = useState(false)
  const webhook = props.job.webhook
  if (!webhook) return <p class="muted">This job has no webhook.</p>
  const redeliver = () =>
    void action.run(async () => {
      await api.post(`/v1/jobs/${encodeURIComponent(props.job.id)}/webhooks/redeliver`)
      setSent(true)
      setTimeout(props.onChange, 1500)
    })
  return (
    <>
      <p>Endpoint: <span class="mono">{webhook.url}</span></p>
      <TableWrap label="Webhook deliveries">
        <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">HTTP status</th></tr></thead>
        <tbody>
          {webhook.deliveries.map((delivery, index) => (
            <tr key={index}><td>{when(delivery.at)}</td><td>{delivery.type}</td><td>{delivery.attempt}</td><td>{delivery.outcome}</td><td>{delivery.status_code ?? delivery.error ?? '—'}</td></tr>
          ))}
          {webhook.deliveries.length === 0 && <tr><td colSpan={5} class="muted">No deliveries yet.</td></tr>}
        </tbody>
      </TableWrap>
      <button type="button" onClick={redeliver} disabled={action.busy}>Redeliver the latest event</button>
      {sent && <InfoNotice>Queued for delivery again.</InfoNotice>}
      <ErrorNotice message={action.error} />
    </>
  )
}

