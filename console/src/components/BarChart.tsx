// A bar chart as plain SVG: one bar per label, its value written under the bar and in a table for screen readers.
import { money } from '../format'

export interface Bar {
  label: string
  value: number
}

export function BarChart(props: { title: string; bars: Bar[]; format?: (value: number) => string }) {
  const format = props.format ?? money
  const bars = props.bars
  if (bars.length === 0) return <p class="muted">No data for this period.</p>
  const width = 640
  const height = 220
  const top = 16
  const bottom = 48
  const max = Math.max(...bars.map((bar) => bar.value), 0) || 1
  const slot = width / bars.length
  const barWidth = Math.max(2, Math.min(48, slot * 0.7))
  const scale = (height - top - bottom) / max
  const labelEvery = Math.ceil(bars.length / 12)
  const maxChars = Math.max(5, Math.floor((slot * labelEvery) / 7)) // ~7 SVG units per character at 11px
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title}; the table below has the figures`}>
        <line x1={0} x2={width} y1={height - bottom} y2={height - bottom} class="axis" />
        {bars.map((bar, index) => {
          const x = index * slot + (slot - barWidth) / 2
          const barHeight = bar.value * scale
          return (
            <g key={bar.label}>
              <rect x={x} y={height - bottom - barHeight} width={barWidth} height={barHeight} class="bar">
                <title>{`${bar.label}: ${format(bar.value)}`}</title>
              </rect>
              {index % labelEvery === 0 && (
                <text x={Math.min(width - 24, Math.max(24, x + barWidth / 2))} y={height - bottom + 16} text-anchor="middle" class="tick">
                  {bar.label.length > maxChars ? `${bar.label.slice(0, maxChars - 1)}…` : bar.label}
                </text>
              )}
            </g>
          )
        })}
        <text x={4} y={12} class="tick">{format(max)}</text>
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  )
}
