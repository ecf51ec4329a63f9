// Client-side routes under /console/ (the server answers index.html for each): the path without the base, and
// navigation through the History API.
import { useEffect, useState } from 'preact/hooks'

export const BASE = '/console'

export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname
  return path === '' ? '/' : path
}

const listeners = new Set<() => void>()

export function navigate(path: string, replace = false): void {
  const url = `${BASE}${path}`
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  listeners.forEach((listener) => listener())
}

export function useRoute(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0)
  useEffect(() => {
    const changed = () => setTick((tick) => tick + 1)
    listeners.add(changed)
    addEventListener('popstate', changed)
    return () => {
      listeners.delete(changed)
      removeEventListener('popstate', changed)
    }
  }, [])
  return { path: currentPath(), query: new URLSearchParams(location.search) }
}
