// The image's HEALTHCHECK: asks /healthz of each port in INVOCA_HEALTH_PORTS (default "9464 9465",
// the metrics_port of the tap and of the loader that docker/follow.sh runs). Unhealthy (exit 1)
// when one answers anything but 200 or does not answer in time. A port nobody listens on is
// unhealthy when INVOCA_HEALTH_PORTS names it (that process is gone); with the default ports it
// means no metrics_port is set (the Airbyte source, a one-shot run): nothing to ask, healthy.
const named = process.env.INVOCA_HEALTH_PORTS;
const ports = (named ?? '9464 9465').split(/[\s,]+/).filter(Boolean);
let served = 0;
for (const port of ports) {
  let response;
  try {
    response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    if (error?.cause?.code === 'ECONNREFUSED' && named === undefined) continue;
    console.log(`port ${port}: no answer (${error?.cause?.code ?? error?.name ?? 'error'})`);
    process.exit(1);
  }
  served++;
  const body = (await response.text()).trim();
  if (response.status !== 200) {
    console.log(`port ${port}: ${response.status} ${body}`);
    process.exit(1);
  }
  console.log(`port ${port}: ${body}`);
}
if (served === 0) console.log(`no /healthz on ports ${ports.join(', ')}: nothing to check`);
process.exit(0);
