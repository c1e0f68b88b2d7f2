/**
 * Push a trained run to a Hub model repo, as `Trainer.push_to_hub` does: create the repo if it is missing, then
 * upload the run's files and a generated model card in one commit, through @huggingface/hub (preupload, LFS for
 * the weights, then the NDJSON commit). The token goes to the Hub in the Authorization header only (the library
 * adds it; LFS storage uploads carry none) and never into a message, a log line, the card or the run folder.
 */
import { openAsBlob, readFileSync } from "node:fs";
import { join } from "node:path";
import { commit, createBranch, createRepo, HubApiError, type CommitOperation } from "@huggingface/hub";
import { packageRoot } from "../data/registry.js";
import { BertuneError } from "../errors.js";
import { fetchOrThrow, hubHeaders, type HubContext } from "../hub/http.js";
import { hubSettings } from "../hub/resolve.js";
import { preparePush, type PushPlan } from "./plan.js";
import { pushError, type PushStep } from "./errors.js";

export interface PushOptions {
  /** Target model repo: `user/name` (a bare name goes to the token owner's namespace). */
  repo: string;
  /** Create the repo private (when it has to be created). */
  private?: boolean;
  /** Branch to commit to; default "main" (created from main when missing). */
  revision?: string;
  /** Commit title; default "Upload model trained with bertune". */
  commitMessage?: string;
  commitDescription?: string;
  /** Default: HF_TOKEN, else the token file ($HF_HOME/token). */
  token?: string;
  /** Push even without eval_results.json or when the weights/config changed since training. */
  force?: boolean;
  /** Default: HF_HUB_OFFLINE (pushing then fails with a clear message). */
  offline?: boolean;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Info lines; never given the token. */
  log?: (line: string) => void;
}

export interface PushResult {
  repo: string;
  revision: string;
  /** The new commit's sha. */
  commit: string;
  /** The commit's page on the Hub. */
  url: string;
  /** Repo paths uploaded, README.md included. */
  files: string[];
  /** True when the repo was created by this push. */
  created: boolean;
}

export const DEFAULT_COMMIT_MESSAGE = "Upload model trained with bertune";

let version: string | undefined;
/** bertune's version, from its package.json. */
export function bertuneVersion(): string {
  return (version ??= (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version);
}

/** A fetch for @huggingface/hub with bertune's handling: rate limits waited out (bounded), "cannot connect" as one line. */
function hubFetch(ctx: HubContext): typeof fetch {
  return (input, init) => fetchOrThrow(ctx, input, init ?? {});
}

/** Run one Hub call, turning the library's errors into one-line BertuneErrors. */
async function step<T>(what: PushStep, ctx: HubContext, repo: string, revision: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BertuneError) throw e;
    if (e instanceof HubApiError) throw pushError(e, { step: what, repo, revision, endpoint: ctx.endpoint, token: ctx.token });
    throw e;
  }
}

/** The token owner's name (for a bare repo name), from `GET /api/whoami-v2`. */
async function whoami(ctx: HubContext): Promise<string> {
  const res = await fetchOrThrow(ctx, `${ctx.endpoint}/api/whoami-v2`, { headers: hubHeaders(ctx, { accept: "application/json" }) });
  if (!res.ok) {
    await res.body?.cancel();
    throw pushError(new HubApiError(res.url, res.status), { step: "whoami", repo: "", revision: "main", endpoint: ctx.endpoint, token: ctx.token });
  }
  const body = (await res.json()) as { name?: unknown };
  if (typeof body.name !== "string") throw new BertuneError("the Hub did not say whose token this is", `is ${ctx.endpoint} a Hugging Face Hub endpoint?`);
  return body.name;
}

/** Whether the model repo exists for this token (`GET /api/models/{repo}`; 401/404 mean no, as repoExists reads it). */
async function repoExists(ctx: HubContext, repo: string): Promise<boolean> {
  const res = await fetchOrThrow(ctx, `${ctx.endpoint}/api/models/${repo}`, { headers: hubHeaders(ctx, { accept: "application/json" }) });
  await res.body?.cancel();
  if (res.status === 404 || res.status === 401) return false;
  if (!res.ok) throw pushError(new HubApiError(res.url, res.status), { step: "create", repo, revision: "main", endpoint: ctx.endpoint, token: ctx.token });
  return true;
}

const REPO_RE = /^[\w.-]{1,96}(\/[\w.-]{1,96})?$/;

function checkTargetRepo(repo: string): string {
  const r = repo.trim();
  if (!REPO_RE.test(r) || r.includes("--") || r.includes("..") || r.split("/").some((p) => /^[-.]|[-.]$/.test(p))) {
    throw new BertuneError(`"${repo}" is not a valid Hub repo id`, "write user/name or org/name (letters, digits, -, _ and .)");
  }
  return r;
}

/** Upload a plan's files and card in one commit. */
async function upload(plan: PushPlan, repo: string, revision: string, ctx: HubContext, options: PushOptions): Promise<{ oid: string; url: string }> {
  const operations: CommitOperation[] = [];
  for (const f of plan.files) {
    // A file-backed Blob: big weights are streamed, not read into memory; reading fails if the file changes meanwhile.
    operations.push({ operation: "addOrUpdate", path: f.path, content: await openAsBlob(f.local) });
  }
  operations.push({ operation: "addOrUpdate", path: "README.md", content: new Blob([plan.card], { type: "text/markdown" }) });
  const out = await step("commit", ctx, repo, revision, () =>
    commit({
      repo: { type: "model", name: repo },
      operations,
      title: options.commitMessage?.trim() || DEFAULT_COMMIT_MESSAGE,
      description: options.commitDescription,
      branch: revision,
      hubUrl: ctx.endpoint,
      accessToken: ctx.token,
      fetch: hubFetch(ctx),
      // Plain LFS uploads (basic or multipart): the protocol every Hub endpoint and mirror speaks.
      useXet: false,
    }),
  );
  if (!out?.commit.oid) throw new BertuneError(`the Hub did not confirm the commit to ${repo}`, "check the repo on the Hub, then push again if needed");
  return { oid: out.commit.oid, url: out.commit.url };
}

/**
 * Push the run in `runDir` to the model repo `options.repo`: checks first (see preparePush), then create the repo
 * if missing, the branch if missing, and one commit with the run's files and README.md.
 */
export async function pushRun(runDir: string, options: PushOptions): Promise<PushResult> {
  const log = options.log ?? (() => undefined);
  const s = hubSettings({ endpoint: options.endpoint, token: options.token, offline: options.offline, revision: options.revision });
  if (s.offline) {
    throw new BertuneError("cannot push in offline mode (HF_HUB_OFFLINE or --offline)", "unset HF_HUB_OFFLINE (or drop --offline) to push to the Hub");
  }
  let repo = checkTargetRepo(options.repo);
  // Check the run before asking for a token: a run that cannot be pushed needs no credentials.
  let plan = preparePush(runDir, { repo, force: options.force, bertuneVersion: bertuneVersion() });
  for (const f of plan.forced) log(`pushing anyway (--force): ${f}`);
  if (!s.token) {
    throw new BertuneError(
      "pushing needs a Hugging Face access token with write access",
      `pass --token, set HF_TOKEN, or run \`huggingface-cli login\`; create one at ${s.endpoint}/settings/tokens`,
    );
  }
  const token = s.token;
  // @huggingface/hub refuses other tokens; say so before sending it anywhere.
  if (!token.startsWith("hf_")) {
    throw new BertuneError("the token given is not a Hugging Face access token (those start with hf_)", `create one with write access at ${s.endpoint}/settings/tokens`);
  }
  const ctx: HubContext = { endpoint: s.endpoint, token, log };
  const revision = s.revision;

  if (!repo.includes("/")) {
    repo = `${await whoami(ctx)}/${repo}`;
    plan = preparePush(runDir, { repo, force: options.force, bertuneVersion: bertuneVersion() });
  }

  let created = false;
  if (!(await repoExists(ctx, repo))) {
    await step("create", ctx, repo, revision, async () => {
      try {
        await createRepo({ repo: { type: "model", name: repo }, visibility: options.private ? "private" : undefined, hubUrl: s.endpoint, accessToken: token, fetch: hubFetch(ctx) });
        created = true;
        log(`created ${options.private ? "private " : ""}model repo ${repo}`);
      } catch (e) {
        if (!(e instanceof HubApiError && e.statusCode === 409)) throw e; // created meanwhile: fine
      }
    });
  } else if (options.private) log(`${repo} exists already; --private applies only to a repo this push creates`);

  if (revision !== "main") {
    await step("branch", ctx, repo, revision, async () => {
      try {
        await createBranch({ repo: { type: "model", name: repo }, branch: revision, hubUrl: s.endpoint, accessToken: token, fetch: hubFetch(ctx) });
        log(`created branch ${revision} in ${repo}`);
      } catch (e) {
        if (!(e instanceof HubApiError && e.statusCode === 409)) throw e; // the branch exists
      }
    });
  }

  log(`uploading ${plan.files.length + 1} files to ${repo}${revision !== "main" ? ` (branch ${revision})` : ""}`);
  const { oid, url } = await upload(plan, repo, revision, ctx, options);
  return { repo, revision, commit: oid, url, files: [...plan.files.map((f) => f.path), "README.md"], created };
}
