// Balance, a top-up through Stripe Checkout (the browser goes to the page the API returns), auto-recharge, payments
// with their receipts, and the ledger.
import { useEffect, useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api } from '../api'
import { ErrorNotice, Field, InfoNotice, Loading, PageFrame, Section, TableWrap } from '../components/ui'
import { money, when } from '../format'
import { useAction, useLoad } from '../hooks'
import type { Account, AutoRecharge, LedgerEntry, Page, Payment, TopUp } from '../types'

export function BillingPage(props: PageProps) {
  const account = useLoad(() => api.get<Account>('/v1/account'))
  const payments = useLoad(() => api.get<Page<Payment>>('/v1/billing/payments', { limit: 20 }))
  const ledger = useLoad(() => api.get<Page<LedgerEntry>>('/v1/usage/ledger', { limit: 20 }))
  const topUpResult = props.query.get('top_up')
  return (
    <PageFrame title="Billing">
      {topUpResult === 'paid' && <InfoNotice>Thank you: the credit appears as soon as Stripe confirms the payment.</InfoNotice>}
      {topUpResult === 'canceled' && <InfoNotice>The top-up was canceled; nothing was charged.</InfoNotice>}
      <Section title="Balance">
        <Loading loading={account.loading && !account.data} />
        <ErrorNotice message={account.error} />
        {account.data && (
          <p class="big" data-testid="balance">{money(account.data.balance_usd)}</p>
        )}
        {account.data && <p class="muted">{account.data.in_flight} job(s) in flight · status {account.data.status}</p>}
        <button type="button" class="secondary small" onClick={account.reload}>Refresh</button>
      </Section>
      <TopUpForm />
      <AutoRechargeForm />
      <Section title="Payments">
        <ErrorNotice message={payments.error && !payments.error.includes('payments_not_enabled') ? payments.error : null} />
        {payments.error?.includes('payments_not_enabled') && <p>Payments are not enabled on this deployment.</p>}
        {payments.data && (
          <TableWrap label="Payments">
            <thead><tr><th scope="col">Date</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Receipt</th></tr></thead>
            <tbody>
              {payments.data.data.map((payment) => (
                <tr key={payment.id}>
                  <td>{when(payment.created)}</td>
                  <td>{money(payment.amount_usd)}</td>
                  <td>{payment.status}</td>
                  <td>{payment.receipt_url ? <a href={payment.receipt_url} target="_blank" rel="noopener noreferrer">Receipt<span class="visually-hidden"> for the payment of {when(payment.created)} (opens in a new tab)</span></a> : '—'}</td>
                </tr>
              ))}
              {payments.data.data.length === 0 && <tr><td colSpan={4} class="muted">No payments yet.</td></tr>}
            </tbody>
          </TableWrap>
        )}
      </Section>
      <Section title="Ledger">
        <ErrorNotice message={ledger.error} />
        {ledger.data && (
          <TableWrap label="Ledger">
            <thead><tr><th scope="col">Date</th><th scope="col">Kind</th><th scope="col">Amount</th><th scope="col">Balance after</th><th scope="col">Note</th></tr></thead>
            <tbody>
              {ledger.data.data.map((entry) => (
                <tr key={entry.id}>
                  <td>{when(entry.created)}</td>
                  <td>{entry.kind}</td>
                  <td>{money(entry.amount_usd)}</td>
                  <td>{money(entry.balance_after_usd)}</td>
                  <td>{entry.note ?? entry.job_id ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        )}
      </Section>
    </PageFrame>
  )
}

function TopUpForm() {
  const [amount, setAmount] = useState('25.00')
  const [saveCard, setSaveCard] = useState(false)
  const action = useAction()
  const submit = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      const topUp = await api.post<TopUp>('/v1/billing/top_ups', { amount_usd: amount, save_card: saveCard })
      location.assign(topUp.url) // Stripe Checkout (the local stand-in's page on `make run`)
    })
  }
  return (
    <Section title="Top up">
      <form class="row wrap" onSubmit={submit}>
        <Field id="topup-amount" label="Amount (USD)" inputMode="decimal" required pattern="[0-9]+(\.[0-9]{1,2})?"
          value={amount} onInput={(event) => setAmount(event.currentTarget.value)} />
        <div class="check">
          <input id="topup-save-card" type="checkbox" checked={saveCard} onChange={(event) => setSaveCard(event.currentTarget.checked)} />
          <label for="topup-save-card">Save the card for auto-recharge</label>
        </div>
        <button type="submit" disabled={action.busy}>Pay with Stripe</button>
      </form>
      <ErrorNotice message={action.error} />
    </Section>
  )
}

function AutoRechargeForm() {
  const settings = useLoad(() => api.get<AutoRecharge>('/v1/billing/auto_recharge'))
  const [form, setForm] = useState({ enabled: false, threshold_usd: '5.00', recharge_to_usd: '25.00', monthly_cap_usd: '100.00' })
  const [saved, setSaved] = useState(false)
  const action = useAction()
  const [edited, setEdited] = useState(false)
  useEffect(() => {
    if (settings.data && !edited) {
      const data = settings.data
      setForm({
        enabled: data.enabled,
        threshold_usd: data.threshold_usd.toFixed(2),
        recharge_to_usd: (data.recharge_to_usd || 25).toFixed(2),
        monthly_cap_usd: (data.monthly_cap_usd || 100).toFixed(2),
      })
    }
  }, [settings.data])
  const submit = (event: Event) => {
    event.preventDefault()
    setSaved(false)
    void action.run(async () => {
      await api.put('/v1/billing/auto_recharge', form)
      setEdited(false)
      setSaved(true)
      settings.reload()
    })
  }
  const field = (name: 'threshold_usd' | 'recharge_to_usd' | 'monthly_cap_usd', label: string) => (
    <Field id={`recharge-${name}`} label={label} inputMode="decimal" required value={form[name]}
      onInput={(event) => { setEdited(true); setForm({ ...form, [name]: event.currentTarget.value }) }} />
  )
  return (
    <Section title="Auto-recharge">
      {settings.data && !settings.data.card_saved && (
        <p class="muted">Auto-recharge needs a card saved by a top-up (tick "Save the card" above).</p>
      )}
      {settings.data?.disabled_reason && <p class="notice error">It turned itself off: {settings.data.disabled_reason}.</p>}
      <ErrorNotice message={settings.error} />
      <form class="row wrap" onSubmit={submit}>
        <div class="check">
          <input id="recharge-enabled" type="checkbox" checked={form.enabled}
            onChange={(event) => { setEdited(true); setForm({ ...form, enabled: event.currentTarget.checked }) }} />
          <label for="recharge-enabled">Recharge automatically</label>
        </div>
        {field('threshold_usd', 'When the balance falls below (USD)')}
        {field('recharge_to_usd', 'Recharge it to (USD)')}
        {field('monthly_cap_usd', 'At most per month (USD)')}
        <button type="submit" disabled={action.busy}>Save</button>
      </form>
      {settings.data && <p class="muted">Recharged this month: {money(settings.data.month_charged_usd)}</p>}
      {saved && <InfoNotice>Saved.</InfoNotice>}
      <ErrorNotice message={action.error} />
    </Section>
  )
}
