// Display helpers: money, times and sizes in one style everywhere.

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 })

export function money(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : usd.format(value)
}

export function when(unixSeconds: number | null | undefined): string {
  if (!unixSeconds) return '—'
  return new Date(unixSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10)
}

export function daysAgo(days: number): string {
  return isoDay(new Date(Date.now() - days * 86_400_000))
}
