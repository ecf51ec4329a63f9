// Webhooks: the account's endpoint, its signing secret (rotate; the new one shown once), the recent deliveries across
// jobs and a redeliver button for each job's latest event.
import { useEffect, useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api } from '../api'
import { ErrorNotice, Field, InfoNotice, Link, Loading, PageFrame, Section, TableWrap } from '../components/ui'
import { when } from '../format'
import { useAction, useLoad } from '../hooks'
import type { AccountDelivery, Page, WebhookSettings } from '../types'

function SecretOnce(props: { secret: string | null }) {
  if (!props.secret) return null
  return (
    <div class="secret" role="status">
      <p><strong>The signing secret, shown once:</strong> verify each delivery's signature with it.</p>
      <label for="webhook-secret">Signing secret</label>
      <input id="webhook-secret" readOnly class="mono" value={props.secret} onFocus={(event) => event.currentTarget.select()} />
    </div>
  )
}

export function WebhooksPage(_props: PageProps) {
  const settings = useLoad(() => api.get<WebhookSettings>('/webhooks'))
  const deliveries = useLoad(() => api.get<Page<AccountDelivery>>('/webhooks/deliveries', { limit: 50 }))
  const [url, setUrl] = useState('')
  const [secret, setSecret] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const action = useAction()
  const [edited, setEdited] = useState(false)
  useEffect(() => {
    if (!edited) setUrl(settings.data?.url ?? '') // never over what the person is typing
  }, [settings.data])

  const save = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      const saved = await api.put<{ url: string; secret?: string }>('/webhooks', { url })
      setSecret(saved.secret ?? null)
      setEdited(false)
      setNotice('Saved.')
      settings.reload()
    })
  }
  const rotate = () =>
    void action.run(async () => {
      const rotated = await api.post<{ secret: string; previous_expires_at: number | null }>('/webhooks/rotate_secret')
      setSecret(rotated.secret)
      setNotice(`Rotated. The previous secret still signs until ${when(rotated.previous_expires_at)}.`)
      settings.reload()
    })
  const redeliver = (jobId: string) =>
    void action.run(async () => {
      await api.post(`/v1/jobs/${encodeURIComponent(jobId)}/webhooks/redeliver`)
      setNotice(`The latest event of ${jobId} is queued for delivery again.`)
      setTimeout(deliveries.reload, 1500)
    })

  return (
    <PageFrame title="Webhooks">
      <Section title="Endpoint">
        <Loading loading={settings.loading && !settings.data} />
        <ErrorNotice message={settings.error} />
        <form class="row wrap" onSubmit={save}>
          <Field id="webhook-url" label="Endpoint URL (https)" type="url" required value={url} placeholder="https://example.com/retouch"
            onInput={(event) => { setEdited(true); setUrl(event.currentTarget.value) }} />
          <button type="submit" disabled={action.busy}>Save</button>
          <button type="button" class="secondary" disabled={action.busy || !settings.data?.url} onClick={rotate}>Rotate secret</button>
        </form>
        {settings.data && settings.data.secrets.length > 0 && (
          <p class="muted">Signing secrets: {settings.data.secrets.map((entry) => `created ${when(entry.created_at)}${entry.expires_at ? `, expires ${when(entry.expires_at)}` : ''}`).join('; ')}</p>
        )}
        <SecretOnce secret={secret} />
        {notice && <InfoNotice>{notice}</InfoNotice>}
        <ErrorNotice message={action.error} />
      </Section>
      <Section title="Recent deliveries">
        <ErrorNotice message={deliveries.error} />
        <button type="button" class="secondary small" onClick={deliveries.reload}>Refresh</button>
        {deliveries.data && (
          <TableWrap label="Recent webhook deliveries">
            <thead><tr><th scope="col">When</th><th scope="col">Job</th><th scope="col">Event</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">HTTP status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {deliveries.data.data.map((delivery, index) => (
                <tr key={`${delivery.event_id}-${index}`}>
                  <td>{when(delivery.at)}</td>
                  <td><Link href={`/jobs/${delivery.job_id}`} class="mono">{delivery.job_id}</Link></td>
                  <td>{delivery.event_type}</td>
                  <td>{delivery.attempt}</td>
                  <td>{delivery.outcome}</td>
                  <td>{delivery.status_code ?? '—'}</td>
                  <td><button type="button" class="small secondary" onClick={() => redeliver(delivery.job_id)} aria-label={`Redeliver the latest event of ${delivery.job_id}`}>Redeliver</button></td>
                </tr>
              ))}
              {deliveries.data.data.length === 0 && <tr><td colSpan={7} class="muted">No deliveries yet.</td></tr>}
            </tbody>
          </TableWrap>
        )}
      </Section>
    </PageFrame>
  )
}
