/**
 * transformers' spellings of a command's options, for users who bring Hugging Face command lines:
 * snake_case (`--num_train_epochs 3`), TrainingArguments' names as aliases of bertune's
 * (`--num-train-epochs` = `--epochs`), argparse's boolean values (`--load_best_model_at_end True`)
 * and the strategy pairs (`--eval_strategy steps --eval_steps 500`). argv is rewritten into the
 * command's own options before commander parses it, so `--help` lists each option once and every
 * value goes through that option's own checks. An option given twice with different values, under
 * any spelling, is refused: commander would silently keep the last.
 */
import { Help, type Command, type Option } from "commander";

/** A strategy pair: `--<strategy> no|steps|epoch` with `--<steps> N`, folded into one bertune option that takes "epoch", "no" or N. */
export interface StrategyPair {
  /** The bertune option that receives the result, e.g. "--eval-every". */
  target: string;
  /** Spellings of the strategy option, e.g. ["--eval-strategy", "--evaluation-strategy"]. */
  strategy: string[];
  /** The steps option, e.g. "--eval-steps"; may be the target itself ("--save-steps"). */
  steps: string;
  /** The number of steps that `steps` strategy means without a steps option (transformers' default). */
  defaultSteps: (given: ReadonlyMap<string, string>) => string;
}

export interface HfSpellings {
  /** Alias → the command's own long option, dashed: { "--num-train-epochs": "--epochs" }. */
  aliases: Record<string, string>;
  pairs?: StrategyPair[];
  /** What --help says about an option's other spellings, when more than its aliases (the strategy pairs). */
  helpNotes?: Record<string, string>;
}

const STRATEGIES = ["no", "steps", "epoch"];
const TRUE = ["true", "t", "yes", "y", "1"];
const FALSE = ["false", "f", "no", "n", "0"];

/** A usage error: one `error: ...` line, exit code 2 (as commander's own, through the command's output settings). */
class UsageError extends Error {}

interface Given {
  /** The option it sets: a long name of the command, or a strategy spelling. */
  name: string;
  /** As typed, for messages: "--num_train_epochs 3". */
  spelled: string;
  /** The flag as typed: "--num_train_epochs". */
  flag: string;
  /** The value; for a boolean flag "true" or "false". */
  value: string;
}

const givenValue = (name: string, flag: string, value: string): Given => ({ name, flag, value, spelled: `${flag} ${value}` });

/** commander's words for a bad value, and a hint line. */
const badValue = (g: Given, must: string, example: string) =>
  new UsageError(`error: option '${g.flag}' argument '${g.value}' is invalid. ${g.flag} must be ${must}.\nhint: for example ${g.flag} ${example}`);

const sameValue = (a: string, b: string) => a === b || (a.trim() !== "" && b.trim() !== "" && Number.isFinite(Number(a)) && Number(a) === Number(b));

/** snake_case → dashes in an option's name, never in a value after "=". */
function dashed(arg: string): { name: string; inline?: string } {
  const eq = arg.indexOf("=");
  const name = `--${(eq < 0 ? arg.slice(2) : arg.slice(2, eq)).replace(/_/g, "-")}`;
  return eq < 0 ? { name } : { name, inline: arg.slice(eq + 1) };
}

/**
 * Rewrite argv (the command's own part, after its name) into the command's long options. Throws a
 * UsageError for conflicting values; leaves what it does not know (operands, unknown options,
 * --help) for commander to handle.
 */
export function normaliseArgv(cmd: Command, argv: readonly string[], spellings: HfSpellings): string[] {
  const options = cmd.options as readonly Option[];
  const byLong = new Map(options.filter((o) => o.long).map((o) => [o.long!, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short!, o]));
  const pairNames = new Set((spellings.pairs ?? []).flatMap((p) => [...p.strategy, p.steps]));
  const takesValue = (name: string) => pairNames.has(name) || Boolean(byLong.get(name)?.required || byLong.get(name)?.optional);

  // Slots in order: kept tokens, or the place of an option's first occurrence.
  const slots: (string[] | { name: string })[] = [];
  const given = new Map<string, Given[]>();
  const add = (g: Given) => {
    if (!given.has(g.name)) {
      given.set(g.name, []);
      slots.push({ name: g.name });
    }
    given.get(g.name)!.push(g);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      slots.push(argv.slice(i));
      break;
    }
    if (arg.startsWith("--")) {
      const { name: typed, inline } = dashed(arg);
      const name = spellings.aliases[typed] ?? typed;
      const spelledName = eqName(arg);
      if (takesValue(name)) {
        const value = inline ?? argv[i + 1];
        if (value === undefined) {
          if (!byLong.has(name)) throw new UsageError(`error: option '${spelledName}' argument missing`);
          slots.push([name]); // commander reports the missing value
          continue;
        }
        if (inline === undefined) i++;
        add(givenValue(name, spelledName, value));
        continue;
      }
      const o = byLong.get(name);
      if (o && !o.variadic) {
        // argparse's booleans: --flag, --flag True, --flag=false.
        const next = inline ?? argv[i + 1];
        const word = next?.toLowerCase();
        const isBool = word !== undefined && (TRUE.includes(word) || FALSE.includes(word));
        if (inline !== undefined && !isBool) {
          slots.push([arg]); // commander: a flag takes no value
          continue;
        }
        if (isBool && inline === undefined) i++;
        add({ name, flag: spelledName, spelled: isBool ? `${spelledName} ${next}` : spelledName, value: isBool && FALSE.includes(word!) ? "false" : "true" });
        continue;
      }
      slots.push([inline === undefined ? typed : `${typed}=${inline}`]);
      continue;
    }
    if (/^-[^-]/.test(arg)) {
      const o = byShort.get(arg.slice(0, 2));
      if (o?.long && (o.required || o.optional)) {
        const value = arg.length > 2 ? arg.slice(2) : argv[i + 1];
        if (value === undefined) {
          slots.push([arg]);
          continue;
        }
        if (arg.length === 2) i++;
        add(givenValue(o.long, arg.slice(0, 2), value));
        continue;
      }
      // -q, or a group of flags such as -qv.
      const flags = [...arg.slice(1)].map((c) => byShort.get(`-${c}`));
      if (flags.every((f) => f?.long && !f.required && !f.optional)) {
        for (const f of flags) add({ name: f!.long!, flag: f!.short!, spelled: f!.short!, value: "true" });
        continue;
      }
    }
    slots.push([arg]);
  }

  const single = (name: string): Given | undefined => {
    const all = given.get(name) ?? [];
    const clash = all.find((g) => !sameValue(g.value, all[0].value));
    if (clash) throw new UsageError(`error: ${all[0].spelled} and ${clash.spelled} set the same option (${optionLabel(name, spellings)}) to different values: give it once`);
    return all[0];
  };
  const values = new Map<string, string>();
  for (const name of given.keys()) if (!pairNames.has(name) || byLong.has(name)) values.set(name, single(name)!.value);

  // Strategy pairs: fold --x-strategy and --x-steps into the target option.
  for (const p of spellings.pairs ?? []) {
    const strategies = p.strategy.map(single).filter((g): g is Given => g !== undefined);
    const other = strategies.find((g) => g.value !== strategies[0].value);
    if (other) throw new UsageError(`error: ${strategies[0].spelled} and ${other.spelled} set the same option (${optionLabel(p.target, spellings)}) to different values: give it once`);
    const s = strategies[0];
    const n = single(p.steps);
    const t = p.steps === p.target ? undefined : single(p.target);
    if (s && !STRATEGIES.includes(s.value)) throw badValue(s, `one of ${STRATEGIES.join(", ")}`, "epoch");
    if (n && p.steps !== p.target && !/^[1-9]\d*$/.test(n.value)) throw badValue(n, "a whole number of steps of 1 or more", "500");
    let result: Given | undefined;
    if (s) {
      const steps = n && !["epoch", "no"].includes(n.value) ? n : undefined;
      if (s.value === "steps") {
        if (n && !steps) throw new UsageError(`error: ${s.spelled} and ${n.spelled} contradict each other: give one`);
        result = { name: p.target, flag: s.flag, spelled: steps ? `${s.spelled} ${steps.spelled}` : s.spelled, value: steps?.value ?? p.defaultSteps(values) };
      } else {
        if (n && n.value !== s.value) throw new UsageError(`error: ${n.spelled} applies only with ${s.flag} steps, not with ${s.spelled}: give one`);
        result = { ...s, name: p.target };
      }
    } else if (n) {
      result = { ...n, name: p.target };
    }
    if (result && t && !sameValue(t.value, result.value)) {
      throw new UsageError(`error: ${t.spelled} and ${result.spelled} set the same option (${optionLabel(p.target, spellings)}) to different values: give it once`);
    }
    if (result) values.set(p.target, result.value);
  }

  const out: string[] = [];
  const emitted = new Set<string>();
  for (const slot of slots) {
    if (Array.isArray(slot)) {
      out.push(...slot);
      continue;
    }
    const target = (spellings.pairs ?? []).find((p) => p.target === slot.name || p.steps === slot.name || p.strategy.includes(slot.name))?.target ?? slot.name;
    if (emitted.has(target)) continue;
    emitted.add(target);
    const value = values.get(target);
    if (value === undefined) continue;
    const o = byLong.get(target);
    if (o && !o.required && !o.optional) {
      if (value === "true") out.push(target);
    } else {
      out.push(target, value);
    }
  }
  return out;
}

/** "--num_train_epochs=3" → "--num_train_epochs". */
function eqName(arg: string): string {
  const eq = arg.indexOf("=");
  return eq < 0 ? arg : arg.slice(0, eq);
}

function aliasesOf(name: string, spellings: HfSpellings): string[] {
  return Object.entries(spellings.aliases)
    .filter(([, to]) => to === name)
    .map(([from]) => from);
}

function optionLabel(name: string, spellings: HfSpellings): string {
  const aliases = aliasesOf(name, spellings);
  return aliases.length ? `${name}, alias ${aliases.join(", ")}` : name;
}

/**
 * Give a command transformers' spellings: argv is normalised before commander parses it, and
 * --help shows each option's aliases in its description: "(alias --num-train-epochs; default: 3)".
 */
export function acceptHfSpellings(cmd: Command, spellings: HfSpellings): Command {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv: string[]) => {
    let normalised: string[];
    try {
      normalised = normaliseArgv(cmd, argv, spellings);
    } catch (e) {
      if (e instanceof UsageError) cmd.error(e.message, { exitCode: 2, code: "bertune.usage" });
      throw e;
    }
    return parse(normalised);
  };
  cmd.configureHelp({
    optionDescription(this: Help, option: Option): string {
      const base = Help.prototype.optionDescription.call(this, option);
      const note = option.long ? (spellings.helpNotes?.[option.long] ?? (aliasesOf(option.long, spellings).length ? `alias ${aliasesOf(option.long, spellings).join(", ")}` : undefined)) : undefined;
      if (!note) return base;
      const desc = option.description;
      // commander's "description (default: 3)" becomes "description (alias --x; default: 3)".
      if (base.startsWith(`${desc} (`) && base.endsWith(")")) return `${desc} (${note}; ${base.slice(desc.length + 2, -1)})`;
      return `${base} (${note})`;
    },
  });
  return cmd;
}
