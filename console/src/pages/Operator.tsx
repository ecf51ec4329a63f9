// The operator's view (operators only; the API refuses others with 403 operator_only): accounts and credit
// adjustments with a reason, margin by model and upstream over time, upstream health and the alarms.
import { useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api } from '../api'
import { BarChart } from '../components/BarChart'
import { ErrorNotice, Field, InfoNotice, Loading, PageFrame, Section, TableWrap } from '../components/ui'
import { daysAgo, isoDay, money, when } from '../format'
import { useAction, useLoad } from '../hooks'
import type { MarginRow, OperatorAccount, Page, UpstreamHealth } from '../types'

export function OperatorPage(_props: PageProps) {
  const [cursors, setCursors] = useState<string[]>([])
  const accounts = useLoad(() => api.get<Page<OperatorAccount>>('/operator/accounts', { cursor: cursors[cursors.length - 1] }), [cursors])
  const [selected, setSelected] = useState<OperatorAccount | null>(null)
  return (
    <PageFrame title="Operator">
      <Section title="Accounts">
        <ErrorNotice message={accounts.error} />
        <Loading loading={accounts.loading && !accounts.data} />
        {accounts.data && (
          <TableWrap label="Accounts">
            <thead><tr><th scope="col">Account</th><th scope="col">Status</th><th scope="col">Balance</th><th scope="col">Spend 30 d</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {accounts.data.data.map((account) => (
                <tr key={account.id} data-account-id={account.id}>
                  <td><span class="mono">{account.id}</span>{account.name && <div class="muted">{account.name}</div>}</td>
                  <td>{account.status}</td>
                  <td data-testid="account-balance">{money(account.balance_usd)}</td>
                  <td>{money(account.spend_30d_usd)}</td>
                  <td>{when(account.created_at)}</td>
                  <td><button type="button" class="small secondary" onClick={() => setSelected(account)} aria-label={`Adjust credit of ${account.id}`}>Adjust credit</button></td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        )}
        <div class="row">
          {cursors.length > 0 && <button type="button" class="secondary" onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>}
          {accounts.data?.next_cursor && <button type="button" class="secondary" onClick={() => setCursors([...cursors, accounts.data!.next_cursor!])}>Next</button>}
        </div>
      </Section>
      {selected && <CreditForm account={selected} onDone={accounts.reload} />}
      <Margin />
      <Upstreams />
    </PageFrame>
  )
}

function CreditForm(props: { account: OperatorAccount; onDone: () => void }) {
  const [amount, setAmount] = useState('')
  const [reason, setReason] = useState('')
  // One key per filled-in form (the API requires one): pressing Apply again after an error or a lost answer replays
  // the same adjustment instead of crediting twice; a change of amount or reason, or a success, makes a new one.
  const [key, setKey] = useState(() => crypto.randomUUID())
  const [result, setResult] = useState<string | null>(null)
  const action = useAction()
  const submit = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      const answer = await api.post<{ balance_usd?: number }>(
        `/operator/accounts/${encodeURIComponent(props.account.id)}/credit`,
        { amount_usd: amount, reason },
        { 'Idempotency-Key': key },
      )
      setResult(`Done: the balance of ${props.account.id} is now ${money(answer.balance_usd)}.`)
      setAmount('')
      setReason('')
      setKey(crypto.randomUUID())
      props.onDone()
    })
  }
  return (
    <Section title={`Adjust the credit of ${props.account.id}`}>
      <form class="row wrap" onSubmit={submit}>
        <Field id="credit-amount" label="Amount (USD, negative to take back)" inputMode="decimal" required
          pattern="-?[0-9]+(\.[0-9]{1,6})?" value={amount} onInput={(event) => { setAmount(event.currentTarget.value); setKey(crypto.randomUUID()) }} />
        <Field id="credit-reason" label="Reason (kept in the ledger)" required minLength={3} maxLength={200} value={reason}
          onInput={(event) => { setReason(event.currentTarget.value); setKey(crypto.randomUUID()) }} />
        <button type="submit" disabled={action.busy}>Apply</button>
      </form>
      {result && <InfoNotice>{result}</InfoNotice>}
      <ErrorNotice message={action.error} />
    </Section>
  )
}

interface MarginReport {
  since: string
  until: string
  data: MarginRow[]
}

const usdOf = (micros: number) => micros / 1_000_000

function Margin() {
  const since = daysAgo(29)
  const until = isoDay(new Date())
  const margin = useLoad(() => api.get<MarginReport>('/operator/margin', { since, until, group_by: 'day' }))
  const rows = margin.data?.data ?? []
  const byDay = new Map<string, number>()
  const byModel = new Map<string, { model: string; upstream: string; jobs: number; revenue: number; cost: number; margin: number }>()
  for (const row of rows) {
    if (row.date) byDay.set(row.date, (byDay.get(row.date) ?? 0) + usdOf(row.margin_micros))
    const model = row.model ?? '—'
    const upstream = row.upstream ?? '—'
    const key = `${model} · ${upstream}`
    const total = byModel.get(key) ?? { model, upstream, jobs: 0, revenue: 0, cost: 0, margin: 0 }
    total.jobs += row.jobs
    total.revenue += usdOf(row.revenue_micros)
    total.cost += usdOf(row.upstream_cost_micros)
    total.margin += usdOf(row.margin_micros)
    byModel.set(key, total)
  }
  return (
    <Section title="Margin">
      <ErrorNotice message={margin.error} />
      <Loading loading={margin.loading && !margin.data} />
      {margin.data && (
        <>
          <BarChart title={`Margin per day, ${since} to ${until} (UTC)`} bars={[...byDay.entries()].sort().map(([label, value]) => ({ label: label.slice(5), value }))} />
          <TableWrap label="Margin by model and upstream">
            <thead><tr><th scope="col">Model</th><th scope="col">Upstream</th><th scope="col">Jobs</th><th scope="col">Charged</th><th scope="col">Upstream cost</th><th scope="col">Margin</th></tr></thead>
            <tbody>
              {[...byModel.values()].map((row) => (
                <tr key={`${row.model}-${row.upstream}`}><td>{row.model}</td><td>{row.upstream}</td><td>{row.jobs}</td><td>{money(row.revenue)}</td><td>{money(row.cost)}</td><td>{money(row.margin)}</td></tr>
              ))}
              {byModel.size === 0 && <tr><td colSpan={6} class="muted">No charged jobs in this period.</td></tr>}
            </tbody>
          </TableWrap>
        </>
      )}
    </Section>
  )
}

interface UpstreamsReport {
  at?: number
  upstreams: UpstreamHealth[]
  alarms?: { name: string; url?: string | null }[]
}

function Upstreams() {
  const health = useLoad(() => api.get<UpstreamsReport>('/operator/upstreams'))
  return (
    <Section title="Upstream health">
      <ErrorNotice message={health.error} />
      <Loading loading={health.loading && !health.data} />
      {health.data && (
        <TableWrap label="Upstream health">
          <thead><tr><th scope="col">Upstream</th><th scope="col">Breaker</th><th scope="col">Failure rate</th><th scope="col">Calls (failures) this window</th></tr></thead>
          <tbody>
            {health.data.upstreams.map((upstream) => (
              <tr key={upstream.name}>
                <td>{upstream.name}{upstream.kind && <div class="muted">{upstream.kind}</div>}</td>
                <td><span class={`badge badge-${upstream.state}`}>{upstream.state}</span>{upstream.open_until ? <div class="muted">until {when(upstream.open_until)}</div> : null}</td>
                <td>{upstream.failure_rate_percent == null ? '—' : `${upstream.failure_rate_percent.toFixed(1)}%`}</td>
                <td>{upstream.calls} ({upstream.failures}){upstream.window_seconds ? <span class="muted"> in {upstream.window_seconds} s</span> : null}</td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      {health.data?.alarms && health.data.alarms.length > 0 && (
        <>
          <h3>Alarms</h3>
          <ul class="alarms">
            {health.data.alarms.map((alarm) => (
              <li key={alarm.name}>{alarm.url ? <a href={alarm.url} target="_blank" rel="noopener noreferrer">{alarm.name}<span class="visually-hidden"> (CloudWatch, opens in a new tab)</span></a> : alarm.name}</li>
            ))}
          </ul>
        </>
      )}
    </Section>
  )
}
