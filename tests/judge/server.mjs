// The commercetools judge: @labdigital/commercetools-mock, untouched, plus the services it lacks.
//
//   node server.mjs --config judge.json [--port 0]      (or JUDGE_PORT; 0 picks a free port)
//
// Bound to 127.0.0.1. When listening it prints one JSON line {"url": "http://127.0.0.1:PORT"} on stdout,
// and it exits when its stdin closes (the test run that started it is gone).
//
// One port, one path prefix per commercetools service (real commercetools has one host per service):
//   /{projectKey}/...                      the HTTP API: ct-mock's own (carts, payments, custom objects ...)
//   /auth/oauth/token, /auth/oauth/introspect   client credentials and RFC 7662 introspection (ours)
//   /session/{projectKey}/sessions[/{id}]  Checkout's Sessions API (ours)
//   /mc/.well-known/jwks.json              the Merchant Center JWKS given in the config (ours)
//   /_judge/reset, /_judge/sessions/{id}/expire, /_judge/health    test hooks (ours)
//
// The API runs with ct-mock's own authentication: a token we issue is added to ct-mock's token store,
// and ct-mock refuses a request without a token it knows. Payments, carts, versions and 409s, queries
// and custom objects are ct-mock's behaviour: nothing here changes it.
//
// Config (JSON): {"projectKey", "clients": [{"clientId", "clientSecret", "scopes": ["manage_project:pk"]}],
//                 "jwks": {"keys": [...]}, "tokenTtl"?: 172800, "sessionTtl"?: 3600}
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { CommercetoolsMock } from "@labdigital/commercetools-mock";

const { values: args } = parseArgs({
	options: { config: { type: "string" }, port: { type: "string", default: process.env.JUDGE_PORT ?? "0" } },
});
if (!args.config) {
	console.error("usage: node server.mjs --config judge.json [--port N]");
	process.exit(2);
}
const config = JSON.parse(readFileSync(args.config, "utf8"));
const pk = config.projectKey;
const tokenTtl = config.tokenTtl ?? 172800;
const sessionTtl = config.sessionTtl ?? 3600;

const mock = new CommercetoolsMock({
	strict: true,
	silent: true,
	enableAuthentication: true,
	validateCredentials: true,
	defaultProjectKey: pk,
});
const tokens = new Map(); // access token -> {clientId, scopes, exp (s)}
const sessions = new Map(); // session id -> stored session

const now = () => Date.now() / 1000;
const iso = (seconds) => new Date(seconds * 1000).toISOString();

function apiError(reply, status, code, message, extra = {}) {
	return reply.code(status).send({ statusCode: status, message, errors: [{ code, message, ...extra }] });
}

function authError(reply, status, code, message) {
	return reply.code(status).send({
		statusCode: status, message, errors: [{ code, message }], error: code, error_description: message,
	});
}

function covers(granted, scope) {
	const project = scope.split(":")[1];
	return granted.includes(scope) || (project !== undefined && granted.includes(`manage_project:${project}`));
}

function basicClient(request) {
	const [scheme, encoded] = (request.headers.authorization ?? "").split(" ");
	if (scheme?.toLowerCase() !== "basic" || !encoded) return undefined;
	const decoded = Buffer.from(encoded, "base64").toString("utf8");
	const sep = decoded.indexOf(":");
	const client = config.clients.find((c) => c.clientId === decoded.slice(0, sep));
	if (sep < 0 || !client) return undefined;
	const given = Buffer.from(decoded.slice(sep + 1));
	const secret = Buffer.from(client.clientSecret);
	return given.length === secret.length && timingSafeEqual(given, secret) ? client : undefined;
}

function bearer(request) {
	const match = (request.headers.authorization ?? "").match(/^Bearer (\S+)$/);
	const record = match ? tokens.get(match[1]) : undefined;
	return record && record.exp > now() ? record : undefined;
}

async function oauth(instance) {
	instance.addContentTypeParser(
		"application/x-www-form-urlencoded", { parseAs: "string" },
		(_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body))),
	);
	const invalidClient = (reply) => authError(reply, 401, "invalid_client",
		"Please provide valid client credentials using HTTP Basic Authentication.");

	instance.post("/oauth/token", async (request, reply) => {
		const client = basicClient(request);
		if (!client) return invalidClient(reply);
		const form = { ...request.query, ...(request.body ?? {}) };
		if (form.grant_type !== "client_credentials") {
			return authError(reply, 400, "unsupported_grant_type", `Unsupported grant type: ${form.grant_type}.`);
		}
		const asked = (form.scope ?? "").split(" ").filter(Boolean);
		const unknown = asked.filter((s) => !covers(client.scopes, s));
		if (unknown.length) return authError(reply, 400, "invalid_scope", `Invalid scope: ${unknown.join(" ")}`);
		const scopes = asked.length ? asked : client.scopes;
		const token = {
			access_token: randomBytes(24).toString("base64url"), token_type: "Bearer", expires_in: tokenTtl,
			scope: scopes.join(" "),
		};
		tokens.set(token.access_token, { clientId: client.clientId, scopes, exp: now() + tokenTtl });
		mock.authStore().addToken(token, client.clientId); // so that ct-mock's own auth accepts it
		return token;
	});

	instance.post("/oauth/introspect", async (request, reply) => {
		const client = basicClient(request);
		if (!client) return invalidClient(reply);
		if (!covers(client.scopes, `introspect_oauth_tokens:${pk}`)) {
			return authError(reply, 401, "insufficient_scope",
				`The client needs the scope introspect_oauth_tokens:${pk} to introspect tokens.`);
		}
		const record = tokens.get((request.body ?? {}).token ?? "");
		if (!record || record.exp <= now()) return { active: false };
		return { active: true, scope: record.scopes.join(" "), exp: Math.floor(record.exp), client_id: record.clientId };
	});
}

function readSession(stored) {
	const expired = stored.state === "ACTIVE" && Date.parse(stored.expiryAt) <= Date.now();
	return expired ? { ...stored, state: "EXPIRED" } : stored;
}

async function createSession(cartId, metadata) {
	if (typeof cartId !== "string" || !(await mock.project(pk).get("cart", cartId))) return undefined;
	const at = now();
	const session = {
		id: randomUUID(), version: 1, createdAt: iso(at), lastModifiedAt: iso(at), expiryAt: iso(at + sessionTtl),
		state: "ACTIVE", activeCart: { cartRef: { id: cartId } }, metadata: metadata ?? {},
	};
	sessions.set(session.id, session);
	return session;
}

async function sessionApi(instance) {
	// 401 without a live token, 403 without a scope for sessions, 404 for another project
	instance.addHook("preHandler", async (request, reply) => {
		const record = bearer(request);
		if (!record) return authError(reply, 401, "invalid_token", "invalid_token");
		const { projectKey } = request.params;
		const wanted = request.method === "GET" ? ["view_sessions", "manage_sessions"] : ["manage_sessions"];
		if (!wanted.some((s) => covers(record.scopes, `${s}:${projectKey}`))) {
			const names = wanted.map((s) => `${s}:${projectKey}`).join(", ");
			return authError(reply, 403, "insufficient_scope",
				`Insufficient scope. One of the following scopes is missing: ${names}`);
		}
		if (projectKey !== pk) return apiError(reply, 404, "ResourceNotFound", `The project ${projectKey} was not found.`);
	});

	instance.get("/:projectKey/sessions/:id", async (request, reply) => {
		const stored = sessions.get(request.params.id);
		if (!stored) {
			return apiError(reply, 404, "ResourceNotFound", `The Resource with ID '${request.params.id}' was not found.`);
		}
		return readSession(stored);
	});

	instance.post("/:projectKey/sessions", async (request, reply) => {
		const body = request.body ?? {};
		const cartId = body.cart?.cartRef?.id;
		const session = await createSession(cartId, body.metadata);
		if (!session) {
			return apiError(reply, 400, "ReferencedResourceNotFound",
				`The referenced object of type 'cart' with id '${cartId}' was not found.`,
				{ typeId: "cart", id: cartId });
		}
		return reply.code(201).send(session);
	});
}

async function hooks(instance) {
	instance.get("/health", async () => ({ ok: true, projectKey: pk }));
	instance.post("/reset", async () => {
		await mock.clear();
		sessions.clear();
		return { reset: true };
	});
	instance.post("/sessions/:id/expire", async (request, reply) => {
		const stored = sessions.get(request.params.id);
		if (!stored) return apiError(reply, 404, "ResourceNotFound", `No session ${request.params.id}.`);
		const at = iso(now());
		sessions.set(stored.id, {
			...stored, version: stored.version + 1, state: "EXPIRED", expiryAt: at, lastModifiedAt: at,
		});
		return { expired: stored.id };
	});
}

mock.app.register(oauth, { prefix: "/auth" });
mock.app.register(sessionApi, { prefix: "/session" });
mock.app.get("/mc/.well-known/jwks.json", async () => config.jwks);
mock.app.register(hooks, { prefix: "/_judge" });

await mock.app.listen({ port: Number(args.port), host: "127.0.0.1" });
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${mock.app.server.address().port}` })}\n`);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
