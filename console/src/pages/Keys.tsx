// API keys: create (the secret shown once, with a copy button; never stored by the browser), list, revoke.
import { useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api } from '../api'
import { ErrorNotice, Field, Loading, PageFrame, Section, TableWrap } from '../components/ui'
import { when } from '../format'
import { useAction, useLoad } from '../hooks'
import type { ApiKey, CreatedKey, Page } from '../types'

export function KeysPage(_props: PageProps) {
  const keys = useLoad(() => api.get<Page<ApiKey>>('/keys'))
  const [name, setName] = useState('')
  const [created, setCreated] = useState<CreatedKey | null>(null)
  const [copied, setCopied] = useState(false)
  const action = useAction()

  const create = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      setCreated(await api.post<CreatedKey>('/keys', { name }))
      setCopied(false)
      setName('')
      keys.reload()
    })
  }
  const revoke = (key: ApiKey) => {
    if (!confirm(`Revoke the key "${key.name}"? Programs using it stop working at once.`)) return
    void action.run(async () => {
      await api.del(`/keys/${encodeURIComponent(key.id)}`)
      keys.reload()
    })
  }
  const copy = async () => {
    if (!created) return
    await navigator.clipboard.writeText(created.key)
    setCopied(true)
  }

  return (
    <PageFrame title="API keys">
      <Section title="Create a key">
        <form class="row wrap" onSubmit={create}>
          <Field id="key-name" label="Name" required maxLength={64} value={name} placeholder="e.g. production server"
            onInput={(event) => setName(event.currentTarget.value)} />
          <button type="submit" disabled={action.busy}>Create key</button>
        </form>
        {created && (
          <div class="secret" role="status">
            <p><strong>Copy the key "{created.name}" now.</strong> It is shown only this once; Retouch keeps only its hash.</p>
            <label for="created-key">New API key</label>
            <div class="row">
              <input id="created-key" readOnly value={created.key} class="mono" onFocus={(event) => event.currentTarget.select()} />
              <button type="button" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
            </div>
            <button type="button" class="link-button" onClick={() => setCreated(null)}>I have saved it: hide the key</button>
          </div>
        )}
        <ErrorNotice message={action.error} />
      </Section>
      <Section title="Your keys">
        <Loading loading={keys.loading && !keys.data} />
        <ErrorNotice message={keys.error} />
        {keys.data && (
          <TableWrap label="API keys">
            <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {keys.data.data.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td class="mono">{key.prefix}…</td>
                  <td>{when(key.created_at)}</td>
                  <td>{key.revoked_at ? `revoked ${when(key.revoked_at)}` : 'active'}</td>
                  <td>
                    {!key.revoked_at && (
                      <button type="button" class="danger small" onClick={() => revoke(key)} aria-label={`Revoke ${key.name}`}>Revoke</button>
                    )}
                  </td>
                </tr>
              ))}
              {keys.data.data.length === 0 && <tr><td colSpan={5} class="muted">No keys yet.</td></tr>}
            </tbody>
          </TableWrap>
        )}
      </Section>
    </PageFrame>
  )
}
