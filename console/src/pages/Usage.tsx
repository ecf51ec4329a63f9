// Usage: spend per day, per model and per end user (GET /v1/usage), and a CSV export of the usage buckets and the
// ledger for the period.
import { useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api } from '../api'
import { BarChart } from '../components/BarChart'
import { ErrorNotice, Field, Loading, PageFrame, Section, TableWrap } from '../components/ui'
import { toCsv, download } from '../csv'
import { daysAgo, isoDay, money } from '../format'
import { useAction, useLoad } from '../hooks'
import type { LedgerEntry, Page, UsageBucket, UsageReport } from '../types'

function sumBy(buckets: UsageBucket[], key: (bucket: UsageBucket) => string): { label: string; value: number; jobs: number; images: number }[] {
  const totals = new Map<string, { label: string; value: number; jobs: number; images: number }>()
  for (const bucket of buckets) {
    const label = key(bucket)
    const total = totals.get(label) ?? { label, value: 0, jobs: 0, images: 0 }
    total.value += bucket.cost_usd
    total.jobs += bucket.jobs
    total.images += bucket.images
    totals.set(label, total)
  }
  return [...totals.values()]
}

/** Every day from start to end, so days without jobs show as empty bars. */
function everyDay(start: string, end: string): string[] {
  const days: string[] = []
  for (let day = new Date(`${start}T00:00:00Z`); isoDay(day) <= end && days.length < 400; day = new Date(day.getTime() + 86_400_000)) {
    days.push(isoDay(day))
  }
  return days
}

async function ledgerFor(start: string, end: string): Promise<LedgerEntry[]> {
  const from = Date.parse(`${start}T00:00:00Z`) / 1000
  const until = Date.parse(`${end}T23:59:59Z`) / 1000
  const entries: LedgerEntry[] = []
  let after: string | null | undefined
  for (let pages = 0; pages < 50; pages++) {
    const page = await api.get<Page<LedgerEntry>>('/v1/usage/ledger', { limit: 100, after })
    for (const entry of page.data) if (entry.created >= from && entry.created <= until) entries.push(entry)
    const oldest = page.data[page.data.length - 1]
    if (!page.has_more || !page.next_cursor || (oldest && oldest.created < from)) break
    after = page.next_cursor
  }
  return entries
}

export function UsagePage(_props: PageProps) {
  const [start, setStart] = useState(daysAgo(29))
  const [end, setEnd] = useState(isoDay(new Date()))
  const [range, setRange] = useState({ start, end })
  const byDayModel = useLoad(() => api.get<UsageReport>('/v1/usage', { start: range.start, end: range.end, group_by: 'day,model' }), [range])
  const byUser = useLoad(() => api.get<UsageReport>('/v1/usage', { start: range.start, end: range.end, group_by: 'user' }), [range])
  const exporting = useAction()

  const report = byDayModel.data
  const days = report ? sumBy(report.data, (bucket) => bucket.date ?? '') : []
  const dayBars = report ? everyDay(range.start, range.end).map((day) => ({ label: day.slice(5), value: days.find((d) => d.label === day)?.value ?? 0 })) : []
  const models = report ? sumBy(report.data, (bucket) => bucket.model ?? '(none)') : []
  const users = byUser.data ? sumBy(byUser.data.data, (bucket) => bucket.user ?? '(no end user)') : []

  const apply = (event: Event) => {
    event.preventDefault()
    setRange({ start, end })
  }
  const exportCsv = () =>
    void exporting.run(async () => {
      if (!report) return
      const rows: (string | number | null | undefined)[][] = report.data.map((bucket) => [
        'usage', bucket.date, bucket.model, '', bucket.jobs, bucket.images, bucket.cost_usd, '', '', '',
      ])
      for (const bucket of byUser.data?.data ?? []) {
        rows.push(['usage_by_end_user', '', '', bucket.user ?? '', bucket.jobs, bucket.images, bucket.cost_usd, '', '', ''])
      }
      for (const entry of await ledgerFor(range.start, range.end)) {
        rows.push(['ledger', new Date(entry.created * 1000).toISOString(), '', '', '', '', entry.amount_usd, entry.kind, entry.job_id ?? entry.payment_id ?? '', entry.note ?? ''])
      }
      const header = ['record', 'date', 'model', 'end_user', 'jobs', 'images', 'amount_usd', 'ledger_kind', 'reference', 'note']
      download(`retouch-usage-${range.start}-${range.end}.csv`, toCsv(header, rows))
    })

  return (
    <PageFrame title="Usage">
      <form class="row wrap card" onSubmit={apply} aria-label="Period">
        <Field id="usage-start" label="From" type="date" required value={start} onInput={(event) => setStart(event.currentTarget.value)} />
        <Field id="usage-end" label="To" type="date" required value={end} onInput={(event) => setEnd(event.currentTarget.value)} />
        <button type="submit">Show</button>
        <button type="button" class="secondary" onClick={exportCsv} disabled={!report || exporting.busy}>Export CSV</button>
      </form>
      <ErrorNotice message={byDayModel.error ?? exporting.error} />
      <Loading loading={byDayModel.loading && !report} />
      {report && (
        <div class="stats" aria-live="polite">
          <div><span class="muted">Spend</span><strong data-testid="usage-total">{money(report.total_cost_usd)}</strong></div>
          <div><span class="muted">Jobs</span><strong data-testid="usage-jobs">{report.total_jobs}</strong></div>
          <div><span class="muted">Images</span><strong>{report.total_images}</strong></div>
        </div>
      )}
      {report && (
        <>
          <Section title="Spend by day"><BarChart title="Spend per day (UTC)" bars={dayBars} /></Section>
          <Section title="Spend by model">
            <BarChart title="Spend per model" bars={models} />
            <Breakdown label="Spend by model" name="Model" rows={models} />
          </Section>
          <Section title="Spend by end user">
            <ErrorNotice message={byUser.error} />
            <BarChart title="Spend per end user" bars={users.slice(0, 20)} />
            <Breakdown label="Spend by end user" name="End user" rows={users} />
          </Section>
        </>
      )}
    </PageFrame>
  )
}

function Breakdown(props: { label: string; name: string; rows: { label: string; value: number; jobs: number; images: number }[] }) {
  return (
    <TableWrap label={props.label}>
      <thead><tr><th scope="col">{props.name}</th><th scope="col">Jobs</th><th scope="col">Images</th><th scope="col">Spend</th></tr></thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={row.label}><td>{row.label}</td><td>{row.jobs}</td><td>{row.images}</td><td>{money(row.value)}</td></tr>
        ))}
      </tbody>
    </TableWrap>
  )
}
