// The demo's Prometheus step: scrapes the edge's GET /metrics as Prometheus would (its Accept
// header, a bearer token) and prints the samples a user would graph or alert on, leaving out the
// histogram buckets (their count and sum stay). Called by demo/run-demo.ts after its deploys:
// `await showPrometheusScrape(edgeUrl, token)`, with any API token (the viewer role is enough) or
// the edge's METRICS_TOKEN. Talks to the edge on 127.0.0.1 only.

/** What Prometheus sends by default: OpenMetrics first. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** The exposition without its `_bucket` lines, as printed. */
export function scrapeExcerpt(exposition: string): string {
  return exposition
    .split('\n')
    .filter((line) => !/^lanyard_\w+_bucket\{/.test(line))
    .join('\n');
}

export async function showPrometheusScrape(edgeUrl: string, token: string, print: (text: string) => void = console.log): Promise<string> {
  const response = await fetch(`${edgeUrl}/metrics`, { headers: { Authorization: `Bearer ${token}`, Accept: PROMETHEUS_ACCEPT } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}: ${text}`);
  print(`\n\u001b[1m▶ What Prometheus scrapes from ${edgeUrl}/metrics (buckets left out; docs/metrics.md)\u001b[0m\n`);
  print(scrapeExcerpt(text));
  return text;
}
