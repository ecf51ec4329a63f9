// Sign up (Cognito sends a code by e-mail), verify the code with the sign-up's password (which signs the person in),
// sign in. The session is an HttpOnly cookie the server sets; this code never sees it.
import { useState } from 'preact/hooks'
import { api } from '../api'
import { ErrorNotice, Field, InfoNotice, Link, PageFrame } from '../components/ui'
import { useAction } from '../hooks'
import { navigate } from '../router'

interface PublicPageProps {
  onSignedIn: () => void
  query: URLSearchParams
}

export function SignUpPage(_props: PublicPageProps) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [accountName, setAccountName] = useState('')
  const action = useAction()
  const submit = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      await api.post('/auth/sign_up', { email, password, account_name: accountName || undefined })
      navigate(`/verify?email=${encodeURIComponent(email)}`)
    })
  }
  return (
    <PageFrame title="Create your account">
      <form class="card stack" onSubmit={submit}>
        <Field id="signup-email" label="E-mail" type="email" autoComplete="email" required value={email}
          onInput={(event) => setEmail(event.currentTarget.value)} />
        <Field id="signup-password" label="Password" type="password" autoComplete="new-password" required minLength={12}
          hint="At least 12 characters, with upper and lower case letters and a digit."
          value={password} onInput={(event) => setPassword(event.currentTarget.value)} />
        <Field id="signup-account" label="Account name (optional)" autoComplete="organization" value={accountName}
          onInput={(event) => setAccountName(event.currentTarget.value)} />
        <ErrorNotice message={action.error} />
        <button type="submit" disabled={action.busy}>Sign up</button>
      </form>
      <p>Already have an account? <Link href="/sign-in">Sign in</Link></p>
    </PageFrame>
  )
}

export function VerifyPage(props: PublicPageProps) {
  const [email, setEmail] = useState(props.query.get('email') ?? '')
  const [code, setCode] = useState('')
  // Typed each time: only whoever chose it at sign-up can verify (and so own) the e-mail's account.
  const [password, setPassword] = useState('')
  const [resent, setResent] = useState(false)
  const action = useAction()
  const submit = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      await api.post('/auth/verify', { email, code: code.trim(), password })
      props.onSignedIn()
    })
  }
  const resend = () =>
    void action.run(async () => {
      await api.post('/auth/resend', { email })
      setResent(true)
    })
  return (
    <PageFrame title="Verify your e-mail">
      <p>We sent a 6-digit code to your e-mail address. Enter it with the password you chose to finish creating your
        account.</p>
      <form class="card stack" onSubmit={submit}>
        <Field id="verify-email" label="E-mail" type="email" autoComplete="email" required value={email}
          onInput={(event) => setEmail(event.currentTarget.value)} />
        <Field id="verify-code" label="Verification code" inputMode="numeric" autoComplete="one-time-code" required
          pattern="[0-9]{6}" maxLength={6} value={code} onInput={(event) => setCode(event.currentTarget.value)} />
        <Field id="verify-password" label="Password" type="password" autoComplete="current-password" required
          hint="The password you chose when you signed up." value={password}
          onInput={(event) => setPassword(event.currentTarget.value)} />
        <ErrorNotice message={action.error} />
        {resent && <InfoNotice>A new code is on its way.</InfoNotice>}
        <div class="row">
          <button type="submit" disabled={action.busy}>Verify</button>
          <button type="button" class="secondary" disabled={action.busy || !email} onClick={resend}>Send a new code</button>
        </div>
      </form>
    </PageFrame>
  )
}

export function SignInPage(props: PublicPageProps) {
  const [email, setEmail] = useState(props.query.get('email') ?? '')
  const [password, setPassword] = useState('')
  const action = useAction()
  const submit = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      await api.post('/auth/sign_in', { email, password })
      props.onSignedIn()
    })
  }
  return (
    <PageFrame title="Sign in">
      <form class="card stack" onSubmit={submit}>
        <Field id="signin-email" label="E-mail" type="email" autoComplete="username" required value={email}
          onInput={(event) => setEmail(event.currentTarget.value)} />
        <Field id="signin-password" label="Password" type="password" autoComplete="current-password" required
          value={password} onInput={(event) => setPassword(event.currentTarget.value)} />
        <ErrorNotice message={action.error} />
        <button type="submit" disabled={action.busy}>Sign in</button>
      </form>
      <p>New here? <Link href="/sign-up">Create an account</Link> · <Link href="/verify">Enter a verification code</Link></p>
    </PageFrame>
  )
}
