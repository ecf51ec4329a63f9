import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { errorText } from './api'

export interface Loaded<T> {
  data: T | undefined
  error: string | null
  loading: boolean
  reload: () => void
}

/** Loads `load()` on mount and whenever `deps` change; `reload()` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  const current = useRef(0)
  useEffect(() => {
    const run = ++current.current
    setLoading(true)
    load().then(
      (value) => {
        if (run !== current.current) return
        setData(value)
        setError(null)
        setLoading(false)
      },
      (reason: unknown) => {
        if (run !== current.current) return
        setError(errorText(reason))
        setLoading(false)
      },
    )
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick])
  const reload = useCallback(() => setTick((value) => value + 1), [])
  return { data, error, loading, reload }
}

/** An action's state: running, its error, and a wrapper that records both. */
export function useAction(): {
  busy: boolean
  error: string | null
  setError: (message: string | null) => void
  run: (action: () => Promise<void>) => Promise<void>
} {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true)
    setError(null)
    try {
      await action()
    } catch (reason) {
      setError(errorText(reason))
    } finally {
      setBusy(false)
    }
  }, [])
  return { busy, error, setError, run }
}
