// Before/after thumbnails of a job, from short-lived presigned links (GET /console/api/jobs/{id}/images).
import { api } from '../api'
import { useLoad } from '../hooks'
import type { Job, JobImages } from '../types'

export function useJobImages(job: Pick<Job, 'id' | 'status'>) {
  return useLoad(() => api.get<JobImages>(`/jobs/${encodeURIComponent(job.id)}/images`), [job.id, job.status])
}

export function Thumb(props: { url?: string | null; alt: string; size?: number }) {
  const size = props.size ?? 64
  if (!props.url) return <span class="thumb empty" aria-hidden="true" />
  return <img class="thumb" src={props.url} alt={props.alt} width={size} height={size} loading="lazy" decoding="async" />
}

export function JobThumbs(props: { job: Job }) {
  const images = useJobImages(props.job)
  const before = images.data?.inputs[0]?.url
  const after = images.data?.outputs[0]?.url ?? props.job.data[0]?.url
  return (
    <span class="thumbs">
      {props.job.kind === 'edit' && <Thumb url={before} alt={`Input of ${props.job.id}`} />}
      <Thumb url={after} alt={`Output of ${props.job.id}`} />
    </span>
  )
}
