// Members: the people of this account; invite someone by e-mail (they join on sign-up), remove someone.
import { useState } from 'preact/hooks'
import type { PageProps } from '../App'
import { api } from '../api'
import { ErrorNotice, Field, InfoNotice, Loading, PageFrame, Section, TableWrap } from '../components/ui'
import { when } from '../format'
import { useAction, useLoad } from '../hooks'
import type { Member, MemberList } from '../types'

export function MembersPage(props: PageProps) {
  const members = useLoad(() => api.get<MemberList>('/members'))
  const [email, setEmail] = useState('')
  const [invited, setInvited] = useState<string | null>(null)
  const action = useAction()
  const invite = (event: Event) => {
    event.preventDefault()
    void action.run(async () => {
      await api.post('/members', { email })
      setInvited(email)
      setEmail('')
      members.reload()
    })
  }
  const remove = (member: Member) => {
    if (!confirm(`Remove ${member.email} from this account?`)) return
    void action.run(async () => {
      await api.del(`/members/${encodeURIComponent(member.id)}`)
      members.reload()
    })
  }
  return (
    <PageFrame title="Members">
      <Section title="Invite someone">
        <form class="row wrap" onSubmit={invite}>
          <Field id="invite-email" label="E-mail" type="email" required value={email} onInput={(event) => setEmail(event.currentTarget.value)} />
          <button type="submit" disabled={action.busy}>Invite</button>
        </form>
        {invited && <InfoNotice>{invited} joins this account when they sign up with that address.</InfoNotice>}
        <ErrorNotice message={action.error} />
      </Section>
      <Section title="People in this account">
        <ErrorNotice message={members.error} />
        <Loading loading={members.loading && !members.data} />
        {members.data && (
          <TableWrap label="Members">
            <thead><tr><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Joined</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {members.data.data.map((member) => (
                <tr key={member.id}>
                  <td>{member.email}{member.id === props.session.user.id && ' (you)'}</td>
                  <td>{member.account_role}</td>
                  <td>{when(member.joined_at)}</td>
                  <td>{member.id !== props.session.user.id && (
                    <button type="button" class="small danger" onClick={() => remove(member)} aria-label={`Remove ${member.email}`}>Remove</button>
                  )}</td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        )}
      </Section>
      {members.data && members.data.invitations.length > 0 && (
        <Section title="Open invitations">
          <TableWrap label="Open invitations">
            <thead><tr><th scope="col">E-mail</th><th scope="col">Invited by</th><th scope="col">Expires</th></tr></thead>
            <tbody>
              {members.data.invitations.map((invitation) => (
                <tr key={invitation.email}><td>{invitation.email}</td><td>{invitation.invited_by}</td><td>{when(invitation.expires_at)}</td></tr>
              ))}
            </tbody>
          </TableWrap>
        </Section>
      )}
    </PageFrame>
  )
}
