// One full partner flow through a client generated from openapi/openapi.json
// (openapi-typescript types + openapi-fetch). tsc type-checks it against the generated
// paths, so a renamed field, route or parameter fails before it runs.
//
//   GATEWAY_URL=http://127.0.0.1:8080 API_KEY=demo-key-for-the-sandbox-only node build/js/flow.js
//
// Prints one JSON object of what it saw; exits non-zero on the first surprise.
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./build/schema.js";

type Problem = components["schemas"]["Problem"];

const baseUrl = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";
const apiKey = process.env.API_KEY ?? "demo-key-for-the-sandbox-only";
const program = process.env.PROGRAM ?? "syw-rewards";
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`unexpected: ${what}`);
}

const unique = () => `t${randomUUID().replaceAll("-", "").slice(0, 16)}`;

async function main(): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};

  const programs = await client.GET("/v1/programs");
  check(programs.data, `list programs: ${programs.response.status}`);
  seen.programs = programs.data.data.map((p) => p.id);
  check(programs.data.data.some((p) => p.id === program), "program listed");

  const enrolled = await client.POST("/v1/programs/{program}/members", {
    params: { path: { program }, header: { "Idempotency-Key": unique() } },
    body: {
      email: `${unique()}@example.com`,
      first_name: "Tess",
      last_name: "Script",
      address: { postal_code: "60179" },
    },
  });
  check(enrolled.response.status === 201 && enrolled.data, `enroll: ${enrolled.response.status}`);
  const member_id = enrolled.data.member_id;
  seen.member_id = member_id;
  const path = { program, member_id };

  const miss = await client.GET("/v1/programs/{program}/members/{member_id}/balance", {
    params: { path },
  });
  const hit = await client.GET("/v1/programs/{program}/members/{member_id}/balance", {
    params: { path },
  });
  check(miss.data && hit.data, "balance");
  const cache = [miss.response.headers.get("cache-status"), hit.response.headers.get("cache-status")];
  seen.balance_cache = cache;
  check(cache[0]?.includes("fwd=miss"), "first balance read is a miss");
  check(/; hit/.test(String(cache[1])), "second balance read is a hit");

  const earnKey = unique();
  const earnBody = { points: 100, reference: unique() };
  const earned = await client.POST("/v1/programs/{program}/members/{member_id}/earn", {
    params: { path, header: { "Idempotency-Key": earnKey } },
    body: earnBody,
  });
  const replayed = await client.POST("/v1/programs/{program}/members/{member_id}/earn", {
    params: { path, header: { "Idempotency-Key": earnKey } },
    body: earnBody,
  });
  check(earned.response.status === 201 && earned.data, `earn: ${earned.response.status}`);
  check(replayed.response.status === 201 && replayed.data, "earn replay");
  check(replayed.response.headers.get("idempotent-replayed") === "true", "replay header");
  check(replayed.data.id === earned.data.id, "the replay is the same transaction");
  seen.earn = { id: earned.data.id, points: earned.data.points, replayed: true };

  const redeemed = await client.POST("/v1/programs/{program}/members/{member_id}/redemptions", {
    params: { path, header: { "Idempotency-Key": unique() } },
    body: { points: 50, reference: unique() },
  });
  check(redeemed.response.status === 201 && redeemed.data, `redeem: ${redeemed.response.status}`);
  seen.redemption = { id: redeemed.data.id, status: redeemed.data.status };

  const voided = await client.POST(
    "/v1/programs/{program}/members/{member_id}/redemptions/{redemption_id}/void",
    { params: { path: { ...path, redemption_id: redeemed.data.id }, header: { "Idempotency-Key": unique() } } },
  );
  check(voided.response.status === 200 && voided.data, `void: ${voided.response.status}`);
  seen.void = { status: voided.data.status };

  const overview = await client.GET("/v1/programs/{program}/members/{member_id}/overview", {
    params: { path },
  });
  check(overview.data, `overview: ${overview.response.status}`);
  seen.overview = { complete: overview.data.complete, points: overview.data.balance?.data?.points };

  const refused = await client.POST("/v1/programs/{program}/members/{member_id}/redemptions", {
    params: { path, header: { "Idempotency-Key": unique() } },
    body: { points: 1_000_000 },
  });
  check(refused.error && !refused.data, "a refused redemption is an error");
  const problem: Problem = refused.error;
  check(refused.response.headers.get("content-type")?.startsWith("application/problem+json"), "problem type");
  seen.problem = { status: problem.status, code: problem.code };
  check(problem.code === "insufficient_points", `problem code ${problem.code}`);
  return seen;
}

main().then(
  (seen) => console.log(JSON.stringify(seen)),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
