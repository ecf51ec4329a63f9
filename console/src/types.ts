// The shapes the console reads, as docs/api.md and docs/console.md describe them (only the fields it shows).

export interface Session {
  user: { id: string; email: string; role: 'member' | 'operator' }
  account: { id: string; name: string }
  csrf_token: string
}

export interface Page<T> {
  data: T[]
  has_more?: boolean
  next_cursor?: string | null
}

export interface ApiKey {
  id: string
  name: string
  prefix: string
  created_at: number
  revoked_at: number | null
}

export interface CreatedKey {
  id: string
  name: string
  key: string
}

export interface Account {
  id: string
  name: string
  status: string
  balance_usd: number
  balance_micros: number
  in_flight: number
  limits: { max_in_flight: number; requests_per_minute: number }
}

export interface ImageData {
  url?: string | null
  width: number
  height: number
  content_type: string
  bytes: number
}

export interface DeliveryRecord {
  event_id: string
  type: string
  attempt: number
  status_code?: number | null
  at: number
  error?: string | null
  outcome: string
}

export interface Job {
  id: string
  kind: 'edit' | 'generation'
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled'
  model: string
  created_at: number
  started_at?: number | null
  completed_at?: number | null
  request: Record<string, unknown>
  size?: string | null
  quality?: string | null
  data: ImageData[]
  usage?: { images?: number; cost_usd?: number; reserved_usd?: number } | null
  error?: { code: string; message: string } | null
  webhook?: { url: string; events: string[]; deliveries: DeliveryRecord[] } | null
  user?: string | null
  upstream?: string | null
}

export interface JobImages {
  inputs: { url: string; width?: number | null; height?: number | null }[]
  outputs: { url: string; width?: number | null; height?: number | null }[]
}

export interface UsageBucket {
  date?: string | null
  model?: string | null
  user?: string | null
  jobs: number
  images: number
  cost_usd: number
  cost_micros: number
}

export interface UsageReport {
  start: string
  end: string
  group_by: string[]
  data: UsageBucket[]
  total_jobs: number
  total_images: number
  total_cost_usd: number
}

export interface LedgerEntry {
  id: string
  kind: string
  job_id?: string | null
  amount_usd: number
  amount_micros: number
  balance_after_usd?: number | null
  created: number
  note?: string | null
  payment_id?: string | null
}

export interface Payment {
  id: string
  purpose: string
  status: string
  amount_usd: number
  currency?: string | null
  refunded_micros: number
  created: number
  receipt_url?: string | null
}

export interface AutoRecharge {
  enabled: boolean
  threshold_usd: number
  recharge_to_usd: number
  monthly_cap_usd: number
  card_saved: boolean
  month_charged_usd: number
  disabled_reason?: string | null
}

export interface TopUp {
  id: string
  url: string
  amount_usd: number
}

export interface Model {
  id: string
  qualities: string[]
  output_formats: string[]
  limits: Record<string, unknown>
  parameters?: { properties?: Record<string, { enum?: unknown[] }> }
}

export interface Upload {
  id: string
  status: string
  upload: { url: string; method: 'POST'; fields: Record<string, string> }
}

export interface FileView {
  id: string
  status: 'pending' | 'ready' | 'rejected'
  width?: number | null
  height?: number | null
  error?: { code: string; message: string } | null
}

export interface Quote {
  hold_usd: number
  expected_usd: number
  input_images?: number
}

export interface WebhookSettings {
  url: string | null
  secrets: { created_at: number; expires_at: number | null }[]
}

export interface AccountDelivery {
  job_id: string
  event_type: string
  event_id: string
  outcome: string
  status_code?: number | null
  attempt: number
  at: number
}

export interface EndUser {
  id: string
  limits: { requests_per_minute: number; images_per_day: number; usd_per_day: number; usd_per_month: number }
  limits_source: string
  usage: { images_today: number; usd_today: number; usd_this_month: number; spent_usd: number; jobs_total: number; in_flight: number }
}

export interface Member {
  id: string
  email: string
  account_role: string
  joined_at: number
}

export interface Invitation {
  email: string
  invited_by: string
  created_at: number
  expires_at: number
}

export interface MemberList {
  data: Member[]
  invitations: Invitation[]
}

export interface OperatorAccount {
  id: string
  name?: string
  status: string
  balance_usd: number
  created_at: number
  in_flight?: number
  spend_30d_usd?: number
}

export interface MarginRow {
  date?: string | null
  model?: string | null
  upstream?: string | null
  jobs: number
  revenue_micros: number
  upstream_cost_micros: number
  margin_micros: number
  net_margin_micros?: number
}

export interface UpstreamHealth {
  name: string
  kind?: string
  state: string
  calls: number
  failures: number
  failure_rate_percent?: number | null
  window_seconds?: number
  open_until?: number | null
}
