// The shell: the session (from GET /console/api/session), the layout (skip link, header, navigation, main) and the
// page for the current route. Signed out, only the sign-up, verify and sign-in pages show.
import type { ComponentType } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiError, api, errorText, setCsrfToken } from './api'
import { Link } from './components/ui'
import { navigate, useRoute } from './router'
import type { Session } from './types'
import { SignInPage, SignUpPage, VerifyPage } from './pages/Auth'
import { BillingPage } from './pages/Billing'
import { EndUsersPage } from './pages/EndUsers'
import { JobPage, JobsPage } from './pages/Jobs'
import { KeysPage } from './pages/Keys'
import { MembersPage } from './pages/Members'
import { OperatorPage } from './pages/Operator'
import { PlaygroundPage } from './pages/Playground'
import { UsagePage } from './pages/Usage'
import { WebhooksPage } from './pages/Webhooks'

export interface PageProps {
  session: Session
  params: Record<string, string>
  query: URLSearchParams
}

interface RouteEntry {
  pattern: RegExp
  label?: string // in the navigation when set
  page: ComponentType<PageProps>
  operator?: boolean
}

const ROUTES: RouteEntry[] = [
  { pattern: /^\/playground$/, label: 'Playground', page: PlaygroundPage },
  { pattern: /^\/jobs$/, label: 'Jobs', page: JobsPage },
  { pattern: /^\/jobs\/(?<jobId>[^/]+)$/, page: JobPage },
  { pattern: /^\/usage$/, label: 'Usage', page: UsagePage },
  { pattern: /^\/billing$/, label: 'Billing', page: BillingPage },
  { pattern: /^\/keys$/, label: 'API keys', page: KeysPage },
  { pattern: /^\/webhooks$/, label: 'Webhooks', page: WebhooksPage },
  { pattern: /^\/end-users$/, label: 'End users', page: EndUsersPage },
  { pattern: /^\/members$/, label: 'Members', page: MembersPage },
  { pattern: /^\/operator$/, label: 'Operator', page: OperatorPage, operator: true },
]

const NAV_PATHS: Record<string, string> = {
  Playground: '/playground', Jobs: '/jobs', Usage: '/usage', Billing: '/billing', 'API keys': '/keys',
  Webhooks: '/webhooks', 'End users': '/end-users', Members: '/members', Operator: '/operator',
}

const PUBLIC_PAGES: Record<string, ComponentType<{ onSignedIn: () => void; query: URLSearchParams }>> = {
  '/sign-in': SignInPage,
  '/sign-up': SignUpPage,
  '/verify': VerifyPage,
}

export function App() {
  const { path, query } = useRoute()
  const [session, setSession] = useState<Session | null | undefined>(undefined)
  const [loadError, setLoadError] = useState<string | null>(null)

  const loadSession = useCallback(async () => {
    try {
      const current = await api.get<Session>('/session')
      setCsrfToken(current.csrf_token)
      setSession(current)
      setLoadError(null)
    } catch (error) {
      setCsrfToken(null)
      setSession(null)
      if (!(error instanceof ApiError && error.status === 401)) setLoadError(errorText(error))
    }
  }, [])

  useEffect(() => {
    void loadSession()
  }, [loadSession])

  if (session === undefined) return <main id="main" class="centered"><p role="status">Loading…</p></main>

  const publicPage = PUBLIC_PAGES[path]
  if (!session || publicPage) {
    if (session && publicPage) {
      navigate('/playground', true)
      return null
    }
    const Page = publicPage ?? SignInPage
    if (!publicPage && path !== '/sign-in') navigate('/sign-in', true)
    const signedIn = async () => {
      await loadSession()
      navigate('/playground', true)
    }
    return (
      <>
        <header class="topbar"><span class="brand">Retouch</span></header>
        <main id="main" class="narrow">
          {loadError && <p class="notice error" role="alert">{loadError}</p>}
          <Page onSignedIn={signedIn} query={query} />
        </main>
      </>
    )
  }

  if (path === '/') {
    navigate('/playground', true)
    return null
  }

  const isOperator = session.user.role === 'operator'
  let found: { entry: RouteEntry; params: Record<string, string> } | null = null
  for (const entry of ROUTES) {
    const match = entry.pattern.exec(path)
    if (match && (!entry.operator || isOperator)) {
      found = { entry, params: { ...match.groups } }
      break
    }
  }

  const signOut = async () => {
    try {
      await api.post('/auth/sign_out')
    } finally {
      setCsrfToken(null)
      setSession(null)
      navigate('/sign-in', true)
    }
  }

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <span class="brand">Retouch</span>
        <span class="who">
          <span class="muted">{session.account.name}</span> · {session.user.email}
          {isOperator && <span class="badge">operator</span>}
        </span>
        <button type="button" class="link-button" onClick={signOut}>Sign out</button>
      </header>
      <nav class="mainnav" aria-label="Console">
        <ul>
          {ROUTES.filter((entry) => entry.label && (!entry.operator || isOperator)).map((entry) => {
            const href = NAV_PATHS[entry.label!]
            return (
              <li key={href}>
                <Link href={href} current={path === href || path.startsWith(`${href}/`)}>{entry.label}</Link>
              </li>
            )
          })}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {found ? (
          <found.entry.page session={session} params={found.params} query={query} />
        ) : (
          <>
            <h1>Not found</h1>
            <p>There is no page at {path}. <Link href="/playground">Go to the playground</Link>.</p>
          </>
        )}
      </main>
    </>
  )
}
