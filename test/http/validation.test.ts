// The validators behind every route: JSON bodies are taken as sent, query strings and path
// parameters may be read as numbers and booleans from their text form, strictly; nothing is removed.
import t from 'tap'
import { createValidatorFactory } from '../../src/http/validation.js'

const schema = {
  type: 'object',
  properties: { n: { type: 'integer' }, b: { type: 'boolean' }, s: { type: 'string' } },
  additionalProperties: false,
}
const validators = createValidatorFactory()({}, {})
const check = (httpPart: string, data: Record<string, unknown>) => {
  const validate = validators({ schema, method: 'POST', url: '/x', httpPart })
  const copy = structuredClone(data)
  const ok = validate(copy) === true
  return { ok, value: copy }
}

t.test('body: no coercion, nothing removed', async (t) => {
  t.same(check('body', { n: 3, b: false, s: 'x' }), { ok: true, value: { n: 3, b: false, s: 'x' } })
  for (const bad of [{ n: '3' }, { b: 'false' }, { b: 0 }, { b: null }, { s: 1 }, { s: ['a'] }, { extra: 1 }]) {
    const result = check('body', bad)
    t.equal(result.ok, false, JSON.stringify(bad))
    t.same(result.value, bad, `${JSON.stringify(bad)} is left as sent`)
  }
})

t.test('query string: numbers and booleans from their text form, nothing looser', async (t) => {
  t.same(check('querystring', { n: '30', b: 'true' }), { ok: true, value: { n: 30, b: true } })
  t.same(check('querystring', { b: 'false' }), { ok: true, value: { b: false } })
  for (const bad of [{ n: '' }, { n: '3.5' }, { n: '3x' }, { b: 'yes' }, { b: '1' }, { b: '' }, { s: ['a', 'b'] }, { extra: '1' }]) {
    t.equal(check('querystring', bad).ok, false, JSON.stringify(bad))
  }
})
