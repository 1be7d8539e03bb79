// Which addresses a media URL may reach.
import t from 'tap'
import { createAddressGuard } from '../../src/messages/media/guard.js'

t.test('only public unicast addresses, unless a network is allowed', async (t) => {
  const guard = createAddressGuard()
  for (const ok of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) t.ok(guard(ok), `${ok} allowed`)
  for (const bad of [
    '127.0.0.1', '127.8.8.8', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd12::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1',
    '2002:7f00:1::', 'not an address',
  ]) t.notOk(guard(bad), `${bad} refused`)
  const allowing = createAddressGuard(['10.0.0.0/8', '127.0.0.2', 'fd00::/8'])
  t.ok(allowing('10.9.9.9'))
  t.ok(allowing('127.0.0.2'))
  t.notOk(allowing('127.0.0.1'), 'only what is listed')
  t.ok(allowing('fd00::5'))
  t.ok(allowing('::ffff:10.1.1.1'), 'IPv4-mapped IPv6 is judged as IPv4')
})
