// A real OpenID provider for mcpreg's identity tests: panva/oidc-provider, configured with the
// clients, accounts and claims the tests need. Started by the Rust test harness; prints
// `ISSUER=<url>` on stdout once it listens (on 127.0.0.1, a free port).
//
// Test-only routes (never part of a real IdP):
//   POST /test/approve        {"user_code": "...", "account": "alice"}  approves a device login
//   GET  /test/actions-token?client=gha-release&audience=mcpreg         a GitHub-Actions-shaped
//        OIDC token, answered as GitHub's ACTIONS_ID_TOKEN_REQUEST_URL does: {"value": "<jwt>"}
//   GET  /test/stats          {"jwks": <how many times the key set was fetched>}
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const GROUPS = {
  alice: ['platform-admins'],
  bob: ['weather-team'],
  carol: [],
};

const GHA_BASE = {
  repository: 'acme/weather',
  repository_owner: 'acme',
  repository_owner_id: '4242',
  workflow_ref: 'acme/weather/.github/workflows/release.yml@refs/tags/v1.0.0',
  job_workflow_ref: 'acme/weather/.github/workflows/release.yml@refs/tags/v1.0.0',
  event_name: 'push',
  environment: 'production',
  ref: 'refs/tags/v1.0.0',
  sha: '0123456789abcdef0123456789abcdef01234567',
  runner_environment: 'github-hosted',
};
const GHA_CLIENTS = {
  'gha-release': GHA_BASE,
  'gha-prt': { ...GHA_BASE, event_name: 'pull_request_target' },
  'gha-build': {
    ...GHA_BASE,
    workflow_ref: 'acme/weather/.github/workflows/build.yml@refs/heads/main',
    job_workflow_ref: 'acme/weather/.github/workflows/build.yml@refs/heads/main',
  },
  'gha-recreated': { ...GHA_BASE, repository_owner_id: '9999' },
  'gha-staging': { ...GHA_BASE, environment: 'staging' },
};

const RESOURCES = {
  'urn:mcpreg': { audience: 'mcpreg', accessTokenTTL: 300 },
  'urn:other': { audience: 'other', accessTokenTTL: 300 },
  'urn:short': { audience: 'mcpreg', accessTokenTTL: 1 },
};

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const clients = [
  {
    client_id: 'mcpreg-cli',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'robot',
    client_secret: 'robot-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  ...Object.keys(GHA_CLIENTS).map((client_id) => ({
    client_id,
    client_secret: 'gha-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  })),
];

const provider = new Provider(issuer, {
  clients,
  scopes: ['openid', 'offline_access', 'registry'],
  claims: { openid: ['sub'], groups: ['groups'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, groups: GROUPS[id] ?? [] }),
  }),
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:mcpreg',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        const info = RESOURCES[resource];
        if (!info) throw new errors.InvalidTarget();
        return { ...info, scope: 'registry', accessTokenFormat: 'jwt' };
      },
    },
  },
  extraTokenClaims: async (ctx, token) => {
    if (token.kind === 'ClientCredentials') {
      return GHA_CLIENTS[token.clientId] ?? {};
    }
    if (token.accountId) {
      return { groups: GROUPS[token.accountId] ?? [] };
    }
    return {};
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { DeviceCode: 600, AccessToken: 300, ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 300, RefreshToken: 3600, Grant: 3600 },
});

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body || '{}');
}

function reply(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function approve(req, res) {
  const { user_code: given, account } = await readJson(req);
  const normalized = String(given).toUpperCase().replace(/[^A-Z]/g, '');
  let code = await provider.DeviceCode.findByUserCode(given);
  if (!code) code = await provider.DeviceCode.findByUserCode(normalized);
  if (!code) return reply(res, 404, { error: `no pending device login with user code ${given}` });
  const grant = new provider.Grant({ accountId: account, clientId: code.clientId });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope('urn:mcpreg', 'registry');
  const grantId = await grant.save();
  code.accountId = account;
  code.grantId = grantId;
  code.resource = 'urn:mcpreg';
  code.authTime = Math.floor(Date.now() / 1000);
  await code.save();
  return reply(res, 200, { approved: true });
}

async function actionsToken(req, res, url) {
  const client = url.searchParams.get('client') ?? 'gha-release';
  const audience = url.searchParams.get('audience') ?? 'mcpreg';
  const resource = Object.keys(RESOURCES).find((r) => RESOURCES[r].audience === audience && RESOURCES[r].accessTokenTTL > 1);
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client}:gha-secret`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'registry' }),
  });
  const body = await response.json();
  if (!response.ok) return reply(res, response.status, body);
  return reply(res, 200, { value: body.access_token });
}

const callback = provider.callback();
let jwksFetches = 0;
server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/jwks') jwksFetches += 1;
  if (req.method === 'GET' && url.pathname === '/test/stats') {
    reply(res, 200, { jwks: jwksFetches });
  } else if (req.method === 'POST' && url.pathname === '/test/approve') {
    approve(req, res).catch((e) => reply(res, 500, { error: String(e) }));
  } else if (req.method === 'GET' && url.pathname === '/test/actions-token') {
    actionsToken(req, res, url).catch((e) => reply(res, 500, { error: String(e) }));
  } else {
    callback(req, res);
  }
});

process.stdout.write(`ISSUER=${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
