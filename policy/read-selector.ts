// Structural reading of `spec.selector` (a Kubernetes LabelSelector); label syntax is
// checked by selectorProblems when the policy is compiled.

import { checkKnownKeys, readArray, readOneOf, readRecord, readString, type ProblemCollector } from "./document-fields.ts";
import type { LabelSelector, LabelSelectorRequirement } from "./model.ts";
import { entryPath, fieldPath, indexPath } from "./problems.ts";

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

export function readSelector(value: unknown, path: string, out: ProblemCollector): LabelSelector | undefined {
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, ["matchLabels", "matchExpressions"], path, out);
  const before = out.count;
  const selector: LabelSelector = {};
  if (record["matchLabels"] !== undefined) {
    const labelsPath = fieldPath(path, "matchLabels");
    const labels = readRecord(record["matchLabels"], labelsPath, out);
    if (labels !== undefined) {
      const matchLabels = Object.create(null) as Record<string, string>;
      for (const [key, labelValue] of Object.entries(labels)) {
        const text = readString(labelValue, entryPath(labelsPath, key), out);
        if (text !== undefined) matchLabels[key] = text;
      }
      selector.matchLabels = matchLabels;
    }
  }
  if (record["matchExpressions"] !== undefined) {
    const expressionsPath = fieldPath(path, "matchExpressions");
    const expressions = readArray(record["matchExpressions"], expressionsPath, out);
    if (expressions !== undefined) {
      selector.matchExpressions = expressions.flatMap((item, index) => {
        const requirement = readRequirement(item, indexPath(expressionsPath, index), out);
        return requirement === undefined ? [] : [requirement];
      });
    }
  }
  return out.count > before ? undefined : selector;
}

function readRequirement(value: unknown, path: string, out: ProblemCollector): LabelSelectorRequirement | undefined {
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, ["key", "operator", "values"], path, out);
  const before = out.count;
  const key = readString(record["key"], fieldPath(path, "key"), out);
  const operator = readOneOf(record["operator"], OPERATORS, fieldPath(path, "operator"), out);
  let values: string[] | undefined;
  if (record["values"] !== undefined) {
    const valuesPath = fieldPath(path, "values");
    values = readArray(record["values"], valuesPath, out)?.flatMap((item, index) => {
      const text = readString(item, indexPath(valuesPath, index), out);
      return text === undefined ? [] : [text];
    });
  }
  if (out.count > before || key === undefined || operator === undefined) return undefined;
  const requirement: LabelSelectorRequirement = { key, operator };
  if (values !== undefined) requirement.values = values;
  return requirement;
}
