import { Command } from "commander";
import { preparePush } from "../../push/plan.js";
import { bertuneVersion, DEFAULT_COMMIT_MESSAGE, pushRun } from "../../push/push.js";
import { action, formatSummary, logger } from "../common.js";

interface PushCliOptions {
  repo: string;
  private?: boolean;
  revision?: string;
  commitMessage?: string;
  token?: string;
  force?: boolean;
  offline?: boolean;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function pushCommand(): Command {
  const cmd = new Command("push")
    .description("upload a trained run to a Hub model repo: weights, config, logs and a generated model card, in one commit")
    .argument("<run>", "run folder written by `bertune train --output`")
    .requiredOption("--repo <id>", "target model repo, user/name or org/name (created if missing)")
    .option("--private", "create the repo private (when this push creates it)", false)
    .option("--revision <branch>", "branch to commit to (created from main if missing)", "main")
    .option("--commit-message <text>", `commit title (default: "${DEFAULT_COMMIT_MESSAGE}")`)
    .option("--token <token>", "Hub access token with write access (default: $HF_TOKEN, else the token saved by `huggingface-cli login`)")
    .option("--force", "push even without eval_results.json, or when the weights or config changed since training", false)
    .option("--offline", "refuse to use the network (same as HF_HUB_OFFLINE=1): pushing then fails", false)
    .option("--dry-run", "check the run and print the files and the model card, without uploading (no token needed)", false)
    .option("--json", "print the result as JSON", false)
    .option("-q, --quiet", "no log lines", false);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ bertune push runs/sst2 --repo user/bert-sst2-head
  $ bertune push runs/sst2 --repo my-org/bert-sst2-head --private --commit-message "3 epochs, lr 1e-3"
  $ bertune push runs/sst2 --repo user/bert-sst2-head --dry-run

The token is read from --token, HF_TOKEN or $HF_HOME/token; it is sent to the Hub only, never printed or saved.`,
  );
  cmd.action(
    action(async (run: string, o: PushCliOptions) => {
      const log = logger(o.quiet || o.json);
      if (o.dryRun) {
        const plan = preparePush(run, { repo: o.repo, force: o.force, bertuneVersion: bertuneVersion() });
        for (const f of plan.forced) log(`would push anyway (--force): ${f}`);
        if (o.json) {
          process.stdout.write(JSON.stringify({ repo: o.repo, files: [...plan.files.map((f) => f.path), "README.md"], card: plan.card }) + "\n");
          return;
        }
        process.stdout.write(formatSummary(`would upload to ${o.repo}`, [...plan.files.map((f) => [f.path, f.local] as [string, string]), ["README.md", "(generated model card, below)"]]));
        process.stdout.write(`\n${plan.card}`);
        return;
      }
      const result = await pushRun(run, {
        repo: o.repo,
        private: o.private,
        revision: o.revision,
        commitMessage: o.commitMessage,
        token: o.token,
        force: o.force,
        offline: o.offline || undefined,
        log,
      });
      if (o.json) {
        process.stdout.write(JSON.stringify(result) + "\n");
        return;
      }
      process.stdout.write(
        formatSummary("pushed", [
          ["repo", `${result.repo}${result.created ? " (created)" : ""}`],
          ["branch", result.revision],
          ["commit", result.commit],
          ["files", result.files.join(", ")],
          ["url", result.url],
        ]),
      );
    }),
  );
  return cmd;
}
