/**
 * One-line errors for a push: what the Hub's HTTP answer (a HubApiError from @huggingface/hub) means for the user,
 * with a hint. The Hub's own message is quoted only with the token scrubbed out of it.
 */
import { HubApiError } from "@huggingface/hub";
import { BertuneError } from "../errors.js";

export type PushStep = "whoami" | "create" | "branch" | "commit";

export interface PushErrorContext {
  step: PushStep;
  repo: string;
  revision: string;
  endpoint: string;
  token?: string;
}

function scrub(text: string, token: string | undefined): string {
  return token ? text.split(token).join("***") : text;
}

/** The Hub's own words for the error (its JSON `error`), without the library's URL trailer. */
function hubMessage(e: HubApiError, token: string | undefined): string | undefined {
  const data = e.data as { error?: unknown; message?: unknown } | undefined;
  const m = typeof data?.error === "string" ? data.error : typeof data?.message === "string" ? data.message : undefined;
  return m ? scrub(m.split("\n")[0].slice(0, 200), token) : undefined;
}

export function pushError(e: HubApiError, c: PushErrorContext): BertuneError {
  const tokens = `${c.endpoint}/settings/tokens`;
  const status = e.statusCode;
  const said = hubMessage(e, c.token);
  const namespace = c.repo.split("/")[0];
  if (status === 401) {
    return new BertuneError(
      "the Hub refused the token (HTTP 401): it is not valid, or has expired",
      `create a token with write access at ${tokens} and pass it with --token or HF_TOKEN (or run \`huggingface-cli login\`)`,
    );
  }
  if (status === 403) {
    return new BertuneError(
      `the token may not ${c.step === "create" ? `create repos under ${namespace}` : `write to ${c.repo}`} (HTTP 403${said ? `: ${said}` : ""})`,
      `use a token with the write role (or a fine-grained token that can write to ${namespace}): ${tokens}`,
    );
  }
  if (status === 404) {
    if (c.step === "commit" && c.revision !== "main") {
      return new BertuneError(`branch "${c.revision}" not found in model ${c.repo}`, "push to an existing branch, or to main");
    }
    return new BertuneError(`model ${c.repo} not found on the Hub (HTTP 404)`, "check the repo id (user/name or org/name)");
  }
  if (status === 409) {
    return new BertuneError(`the Hub reported a conflict while pushing to ${c.repo} (HTTP 409${said ? `: ${said}` : ""})`, "someone pushed to the same branch meanwhile: push again");
  }
  if (status === 413) {
    return new BertuneError(`a file is too large for the Hub's limits (HTTP 413${said ? `: ${said}` : ""})`);
  }
  if (status === 429) {
    return new BertuneError(`the Hub is rate-limiting requests (HTTP 429) while pushing to ${c.repo}`, "bertune waited and retried; wait a few minutes and push again");
  }
  return new BertuneError(
    `the Hub answered HTTP ${status} while pushing to ${c.repo}${said ? `: ${said}` : ""}`,
    status >= 500 ? "the Hub may be having trouble; try again later" : undefined,
  );
}
