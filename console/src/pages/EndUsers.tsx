// End users: each one's limits (its own, the account's defaults or the system's) and usage; edit the limits.
import { useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api } from '../api'
import { ErrorNotice, Field, InfoNotice, Loading, PageFrame, Section, TableWrap } from '../components/ui'
import { money } from '../format'
import { useAction, useLoad } from '../hooks'
import type { EndUser, Page } from '../types'

export function EndUsersPage(_props: PageProps) {
  const users = useLoad(() => api.get<Page<EndUser>>('/v1/end_users', { limit: 50 }))
  const [editing, setEditing] = useState<EndUser | null>(null)
  return (
    <PageFrame title="End users">
      <p class="muted">The people your application makes images for (the <span class="mono">user</span> field or <span class="mono">X-End-User</span> header), highest spend first.</p>
      <ErrorNotice message={users.error} />
      <Loading loading={users.loading && !users.data} />
      {users.data && (
        <TableWrap label="End users">
          <thead><tr><th scope="col">End user</th><th scope="col">Spent</th><th scope="col">Today</th><th scope="col">This month</th><th scope="col">Limits</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {users.data.data.map((user) => (
              <tr key={user.id}>
                <td class="mono">{user.id}</td>
                <td>{money(user.usage.spent_usd)} ({user.usage.jobs_total} jobs)</td>
                <td>{money(user.usage.usd_today)} · {user.usage.images_today} images</td>
                <td>{money(user.usage.usd_this_month)}</td>
                <td>{user.limits.requests_per_minute}/min · {user.limits.images_per_day} images/day · {money(user.limits.usd_per_day)}/day · {money(user.limits.usd_per_month)}/month <span class="muted">({user.limits_source.replace('_', ' ')})</span></td>
                <td><button type="button" class="small secondary" onClick={() => setEditing(user)} aria-label={`Edit limits of ${user.id}`}>Edit limits</button></td>
              </tr>
            ))}
            {users.data.data.length === 0 && <tr><td colSpan={6} class="muted">No end users yet.</td></tr>}
          </tbody>
        </TableWrap>
      )}
      {editing && <LimitsForm user={editing} onSaved={() => { setEditing(null); users.reload() }} />}
    </PageFrame>
  )
}

function LimitsForm(props: { user: EndUser; onSaved: () => void }) {
  const limits = props.user.limits
  const [form, setForm] = useState({
    requests_per_minute: String(limits.requests_per_minute), images_per_day: String(limits.images_per_day),
    usd_per_day: String(limits.usd_per_day), usd_per_month: String(limits.usd_per_month),
  })
  const action = useAction()
  const [saved, setSaved] = useState(false)
  const submit = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      await api.put(`/v1/end_users/${encodeURIComponent(props.user.id)}`, {
        limits: {
          requests_per_minute: Number(form.requests_per_minute), images_per_day: Number(form.images_per_day),
          usd_per_day: form.usd_per_day, usd_per_month: form.usd_per_month,
        },
      })
      setSaved(true)
      props.onSaved()
    })
  }
  const input = (name: keyof typeof form, label: string) => (
    <Field id={`limit-${name}`} label={label} inputMode="decimal" required value={form[name]}
      onInput={(event) => setForm({ ...form, [name]: event.currentTarget.value })} />
  )
  return (
    <Section title={`Limits of ${props.user.id}`}>
      <form class="row wrap" onSubmit={submit}>
        {input('requests_per_minute', 'Requests per minute')}
        {input('images_per_day', 'Images per day')}
        {input('usd_per_day', 'USD per day')}
        {input('usd_per_month', 'USD per month')}
        <button type="submit" disabled={action.busy}>Save limits</button>
      </form>
      {saved && <InfoNotice>Saved.</InfoNotice>}
      <ErrorNotice message={action.error} />
    </Section>
  )
}
