// The pure routing decision: every outcome from the facts alone.
import t from 'tap'
import { bodyBytesOf, decideRoute, FLY_REPLAY_MAX_BODY_BYTES, flyReplayHeader, type RouteFacts } from '../../src/cluster/route-decision.js'
import type { InstanceInfo } from '../../src/cluster/types.js'

const instanceInfo = (id: string, o: { url?: string; flyMachineId?: string | null } = {}): InstanceInfo =>
  ({ id, url: o.url ?? null, flyMachineId: o.flyMachineId ?? null, startedAt: new Date(0), heartbeatAt: new Date(0) })

const self = instanceInfo('a', { url: 'http://10.0.0.1:3000', flyMachineId: null })
const other = instanceInfo('b', { url: 'http://10.0.0.2:3000', flyMachineId: 'm-b' })

const facts = (over: Partial<RouteFacts> = {}): RouteFacts => ({
  clustered: true, holdsHere: false, holder: other, self, onFly: false, bodyBytes: 0, hopped: false,
  runsHere: false, takeoverPending: false, whenNoHolder: 'retry', retryAfterSeconds: 10, ...over,
})

t.test('no cluster (file mode, lease off, one instance): always here', async (t) => {
  t.same(decideRoute(facts({ clustered: false, holder: null })), { kind: 'local', reason: 'single' })
  t.same(decideRoute(facts({ clustered: false, hopped: true })), { kind: 'local', reason: 'single' })
})

t.test('held here, or the lease names this instance: here, even after a hop', async (t) => {
  t.same(decideRoute(facts({ holdsHere: true, holder: null })), { kind: 'local', reason: 'holder' })
  t.same(decideRoute(facts({ holder: self, hopped: true })), { kind: 'local', reason: 'holder' })
})

t.test('elsewhere, off Fly: forwarded to the holder\'s address', async (t) => {
  t.same(decideRoute(facts()), { kind: 'forward', url: 'http://10.0.0.2:3000', instanceId: 'b' })
  t.same(decideRoute(facts({ bodyBytes: null })), { kind: 'forward', url: 'http://10.0.0.2:3000', instanceId: 'b' })
})

t.test('on Fly: replayed to the holder\'s Machine up to 1 MB, forwarded above or when the size is unknown', async (t) => {
  t.same(decideRoute(facts({ onFly: true })), { kind: 'replay', machineId: 'm-b', instanceId: 'b' })
  t.same(decideRoute(facts({ onFly: true, bodyBytes: FLY_REPLAY_MAX_BODY_BYTES })), { kind: 'replay', machineId: 'm-b', instanceId: 'b' })
  t.same(decideRoute(facts({ onFly: true, bodyBytes: FLY_REPLAY_MAX_BODY_BYTES + 1 })), { kind: 'forward', url: 'http://10.0.0.2:3000', instanceId: 'b' })
  t.same(decideRoute(facts({ onFly: true, bodyBytes: null })), { kind: 'forward', url: 'http://10.0.0.2:3000', instanceId: 'b' })
  // A holder that is not a Fly Machine (mixed deployment) is forwarded to.
  t.same(decideRoute(facts({ onFly: true, holder: instanceInfo('c', { url: 'http://c:3000' }) })), { kind: 'forward', url: 'http://c:3000', instanceId: 'c' })
  t.equal(flyReplayHeader('m-b'), 'instance=m-b')
})

t.test('a request that already hopped is never sent on again', async (t) => {
  const d = decideRoute(facts({ hopped: true }))
  t.equal(d.kind, 'unavailable')
  t.equal(d.kind === 'unavailable' && d.code, 'SESSION_MOVING')
  t.equal(d.kind === 'unavailable' && d.retryAfterSeconds, 10)
  t.equal(decideRoute(facts({ hopped: true, onFly: true })).kind, 'unavailable')
})

t.test('nobody holds it', async (t) => {
  const moving = decideRoute(facts({ holder: null, takeoverPending: true }))
  t.same(moving, { kind: 'unavailable', code: 'SESSION_MOVING', reason: 'no instance holds the session yet (takeover in progress)', retryAfterSeconds: 10 })
  // Running here (standby, starting): the session answers for itself (425 QR_NOT_READY, its state...).
  t.same(decideRoute(facts({ holder: null, takeoverPending: true, runsHere: true })), { kind: 'local', reason: 'no-holder' })
  // Never held anywhere: answered here (404 from the route, or the session is created here).
  t.same(decideRoute(facts({ holder: null, takeoverPending: false })), { kind: 'local', reason: 'no-holder' })
  // Routes served from Postgres answer here whatever happens to the session.
  t.same(decideRoute(facts({ holder: null, takeoverPending: true, whenNoHolder: 'local' })), { kind: 'local', reason: 'no-holder' })
})

t.test('a holder with no address (INTERNAL_URL unset): answered here, as without routing', async (t) => {
  t.same(decideRoute(facts({ holder: instanceInfo('c') })), { kind: 'local', reason: 'no-address' })
  t.same(decideRoute(facts({ onFly: true, holder: instanceInfo('c', { flyMachineId: 'm-c' }), bodyBytes: 2_000_000 })), { kind: 'local', reason: 'no-address' })
})

t.test('body size from the headers', async (t) => {
  t.equal(bodyBytesOf(undefined, undefined), 0)
  t.equal(bodyBytesOf('1234', undefined), 1234)
  t.equal(bodyBytesOf(undefined, 'chunked'), null)
  t.equal(bodyBytesOf('12x', undefined), null)
})
