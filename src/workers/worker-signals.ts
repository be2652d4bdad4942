/**
 * A worker process takes no stop signal itself: the parent decides, and tells it (src/workers/
 * worker.ts). Installed by the worker's first import, before the addon, the plugins and the rest
 * load: a signal meanwhile (a service manager's SIGTERM to every process of the service) ended a
 * worker that was still starting, and the run failed with "worker 0 ended unexpectedly".
 */
import { REPORT_SIGNALS, STOP_SIGNALS } from '../stop-signals';

for (const sig of STOP_SIGNALS) process.on(sig, () => { /* the parent decides */ });
// the parent reports; taken here so that SIGUSR1 never opens Node's inspector in a worker either
for (const sig of REPORT_SIGNALS) process.on(sig, () => { /* the parent reports */ });
