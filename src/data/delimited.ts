import { BertuneError } from "../errors.js";

export interface DelimitedRecord {
  fields: string[];
  /** 1-based line on which the record starts. */
  line: number;
}

export interface DelimitedOptions {
  delimiter: string;
  /** The quote character (RFC 4180: `"`), or null for no quoting at all (TSV, as GLUE reads it). */
  quote: string | null;
  /** The file's name, for error messages. */
  file: string;
}

/**
 * Splits delimited text into records. With a quote character it follows RFC 4180: a field that starts with
 * the quote runs to the next lone quote and may hold delimiters, line breaks and doubled quotes; a quote in
 * the middle of an unquoted field is kept as it is. Records end at LF, CRLF or a lone CR. Blank lines
 * (empty or only spaces and tabs) are skipped.
 */
export function parseDelimited(text: string, options: DelimitedOptions): DelimitedRecord[] {
  const { delimiter, quote, file } = options;
  const records: DelimitedRecord[] = [];
  const n = text.length;
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let anyQuoted = false;
  let i = 0;

  const endRecord = (): void => {
    const blank = !anyQuoted && fields.length === 1 && /^[ \t]*$/.test(fields[0]);
    if (!blank) records.push({ fields, line: recordLine });
    fields = [];
    anyQuoted = false;
  };

  while (i <= n) {
    // At the start of a field.
    if (quote !== null && text[i] === quote) {
      anyQuoted = true;
      const openedOn = line;
      let value = "";
      let from = ++i;
      for (;;) {
        if (i >= n) {
          throw new BertuneError(
            `${file}, line ${openedOn}: a quoted field is never closed.`,
            `Check the quotes on line ${openedOn}: a ${quote} inside a quoted field must be doubled (${quote}${quote}).`,
          );
        }
        const c = text[i];
        if (c === quote) {
          if (text[i + 1] === quote) {
            value += text.slice(from, i + 1);
            i += 2;
            from = i;
            continue;
          }
          value += text.slice(from, i);
          i++;
          break;
        }
        if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) line++;
        i++;
      }
      fields.push(value);
      const next = text[i];
      if (i < n && next !== delimiter && next !== "\n" && next !== "\r") {
        throw new BertuneError(
          `${file}, line ${line}: unexpected text after a closing quote.`,
          `A field that starts with ${quote} must end with ${quote} right before the delimiter or the line end; a ${quote} inside it must be doubled (${quote}${quote}).`,
        );
      }
    } else {
      const from = i;
      while (i < n) {
        const c = text[i];
        if (c === delimiter || c === "\n" || c === "\r") break;
        i++;
      }
      fields.push(text.slice(from, i));
    }
    // After a field: a delimiter, a line end, or the end of the text.
    if (i >= n) {
      if (fields.length > 1 || fields[0] !== "" || anyQuoted) endRecord();
      break;
    }
    const c = text[i];
    if (c === delimiter) {
      i++;
      continue;
    }
    i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    endRecord();
    line++;
    recordLine = line;
    if (i >= n) break;
  }
  return records;
}
