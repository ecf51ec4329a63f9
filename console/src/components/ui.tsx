// Small building blocks every page uses: links, the page frame, notices, form fields.
import type { ComponentChildren, InputHTMLAttributes, PartialInputHTMLAttributes } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { BASE, navigate } from '../router'

export function Link(props: { href: string; children: ComponentChildren; class?: string; current?: boolean }) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(props.href)
  }
  return (
    <a href={`${BASE}${props.href}`} class={props.class} onClick={onClick} aria-current={props.current ? 'page' : undefined}>
      {props.children}
    </a>
  )
}

/** A page: its heading takes focus when the page opens, so keyboard and screen-reader users land on it. */
export function PageFrame(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    document.title = `${props.title} · Retouch console`
    heading.current?.focus()
  }, [props.title])
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1} ref={heading}>{props.title}</h1>
        {props.actions}
      </div>
      {props.children}
    </>
  )
}

export function ErrorNotice(props: { message: string | null }) {
  if (!props.message) return null
  return <p class="notice error" role="alert">{props.message}</p>
}

export function InfoNotice(props: { children: ComponentChildren }) {
  return <p class="notice info" role="status">{props.children}</p>
}

export function Loading(props: { loading: boolean }) {
  return props.loading ? <p class="muted" role="status">Loading…</p> : null
}

type InputProps = Omit<PartialInputHTMLAttributes<HTMLInputElement>, 'id' | 'role'> & { label: string; hint?: string; id: string }

export function Field({ label, hint, id, ...input }: InputProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...(input as InputHTMLAttributes<HTMLInputElement>)} />
      {hint && <small id={`${id}-hint`} class="muted">{hint}</small>}
    </div>
  )
}

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  const id = props.id ?? `section-${props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  )
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status}`}>{props.status}</span>
}

/** A table that scrolls sideways on a narrow screen instead of widening the page. */
export function TableWrap(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={props.label} tabIndex={0}>
      <table>{props.children}</table>
    </div>
  )
}
