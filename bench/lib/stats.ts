/** Small statistics and formatting helpers for the bench. */

/** Nearest-rank percentile (p in 0..100) of a non-empty list: p95 of 5 samples is the largest. */
export function percentile(values: number[], p: number): number {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[rank - 1];
}

export function mean(values: number[]): number {
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function median(values: number[]): number {
    return percentile(values, 50);
}

/** Rounds to `digits` decimals for JSON (no float noise). */
export function round(value: number, digits = 2): number {
    const f = 10 ** digits;
    return Math.round(value * f) / f;
}

/** Plain-text table: columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: string[][], indent = "  "): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+( ?[a-z%×x]+)?$|^$|^—$/.test(r[i] ?? "")));
    const line = (cells: string[]) =>
        indent +
        cells
            .map((c, i) => (numeric[i] ? (c ?? "").padStart(widths[i]) : (c ?? "").padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(header), indent + widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** How many items fall under each key. */
export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
    return out;
}
