// IAM policy evaluator for the Python tests (run as a subprocess).
//
// stdin:  {"identityPolicies": [<policy>...], "sessionPolicy": <policy>,
//          "requests": [{"action", "resource", "context"?: {key: string|string[]}}]}
// stdout: JSON array, one entry per request, in order:
//          {"action", "resource", "result", "sessionResult", "identityResult",
//           "ignoredContextKeys", "denials", "grants"}
// Any bad input or library error exits non-zero with a message on stderr and
// nothing on stdout, so a caller can never mistake a failure for "Allowed".
import { getDenialReasons, getGrantReasons, runSimulation } from '@cloud-copilot/iam-simulate'

// The credentials CKAN hands out are an STS session of this role; the session
// policy only takes effect for role/federated sessions, so the principal must be one.
const PRINCIPAL = 'arn:aws:sts::123456789012:assumed-role/S3MultipartUploadOnly/ckan-user'
// S3 ARNs carry no account id; same account as the principal means identity
// policies alone can grant access (no bucket policy needed).
const ACCOUNT_ID = '123456789012'
const RESULTS = new Set(['Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied'])

function fail(message) {
  process.stderr.write(`simulate.mjs: ${message}\n`)
  process.exit(2)
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

function parseInput(text) {
  let doc
  try {
    doc = JSON.parse(text)
  } catch (e) {
    fail(`stdin is not valid JSON: ${e.message}`)
  }
  if (!isObject(doc)) fail('input must be a JSON object')
  // Reject unknown keys: a typo such as "sessionPolicies" would otherwise
  // silently drop the session policy and make everything look allowed.
  const extra = Object.keys(doc).filter((k) => !['identityPolicies', 'sessionPolicy', 'requests'].includes(k))
  if (extra.length) fail(`unknown input keys: ${extra.join(', ')}`)
  if (!Array.isArray(doc.identityPolicies) || !doc.identityPolicies.every(isObject))
    fail('"identityPolicies" must be an array of policy objects')
  // Required on purpose: testing the session policy is the point of this tool.
  if (!isObject(doc.sessionPolicy)) fail('"sessionPolicy" must be a policy object')
  if (!Array.isArray(doc.requests) || doc.requests.length === 0) fail('"requests" must be a non-empty array')
  doc.requests.forEach((r, i) => {
    if (!isObject(r) || typeof r.action !== 'string' || typeof r.resource !== 'string')
      fail(`requests[${i}] needs string "action" and "resource"`)
    const ctx = r.context ?? {}
    const okValue = (v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))
    if (!isObject(ctx) || !Object.values(ctx).every(okValue))
      fail(`requests[${i}].context must map keys to a string or array of strings`)
  })
  return doc
}

async function evaluate(doc, req, i) {
  const response = await runSimulation(
    {
      request: {
        principal: PRINCIPAL,
        action: req.action,
        resource: { resource: req.resource, accountId: ACCOUNT_ID },
        contextVariables: req.context ?? {},
      },
      identityPolicies: doc.identityPolicies.map((policy, n) => ({ name: `identity-${n}`, policy })),
      sessionPolicy: doc.sessionPolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  )
  if (response.resultType === 'error')
    fail(`requests[${i}] (${req.action} ${req.resource}): library error: ${JSON.stringify(response.errors)}`)
  if (!RESULTS.has(response.overallResult))
    fail(`requests[${i}]: unexpected result ${JSON.stringify(response.overallResult)}`)

  const out = { action: req.action, resource: req.resource, result: response.overallResult }
  // A wildcard resource fans out into several simulations; only the summary is meaningful then.
  if (response.resultType === 'single') {
    const { analysis, ignoredContextKeys } = response.result
    Object.assign(out, {
      // getDenialReasons() does not report session-policy denials, so expose both layers directly.
      sessionResult: analysis.sessionAnalysis?.result,
      identityResult: analysis.identityAnalysis?.result,
      // Keys AWS would not send for this action are dropped before evaluation; surface them
      // so a test can notice a condition that is silently never evaluated.
      ignoredContextKeys,
      denials: getDenialReasons(analysis),
      grants: getGrantReasons(analysis),
    })
  }
  return out
}

let input = ''
for await (const chunk of process.stdin) input += chunk
const doc = parseInput(input)
try {
  const results = []
  for (const [i, req] of doc.requests.entries()) results.push(await evaluate(doc, req, i))
  process.stdout.write(JSON.stringify(results, null, 2) + '\n')
} catch (e) {
  fail(`library threw: ${e?.stack ?? e}`)
}
