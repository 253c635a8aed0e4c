import { Option, type Command } from '@commander-js/extra-typings';
import { SHIPMENT_UPDATE_STATUSES } from '../../core/domain/shipment-status.js';
import type { ShipmentUpdateAccepted, TrackingView } from '../../core/shipments/shipments.js';
import { argPath } from '../arg-path.js';
import { apiClient, apiOptions, serverOptions } from '../api-options.js';
import { printJson, printLine, printRecord, printTable } from '../output.js';

const TOKEN_HELP = 'the admin or carrier key; without it: BUILDFLOW_TOKEN, else BUILDFLOW_ADMIN_KEY';

export function registerShipment(program: Command): void {
  const shipment = program
    .command('shipment')
    .description('report shipment progress (admin or carrier)')
    .addHelpText(
      'after',
      `
Examples:
  $ TRACKING=$(buildflow order get "$REF" --json | jq -r .trackingCode)
  $ buildflow shipment update "$TRACKING" --status shipped
  $ BUILDFLOW_TOKEN=$CARRIER_KEY buildflow shipment update "$TRACKING" --status delivered`,
    );
  apiOptions(
    shipment
      .command('update')
      .description('report that a shipment was shipped or delivered; applied shortly by the workers')
      .argument('<trackingCode>', 'the tracking code, TRK…')
      .addOption(new Option('--status <status>', 'the new status').choices(SHIPMENT_UPDATE_STATUSES).makeOptionMandatory()),
    TOKEN_HELP,
  )
    .option('--json', 'print { trackingCode, status, requestedStatus } as JSON')
    .addHelpText(
      'after',
      `
pending → shipped → delivered, one step at a time; a repeated, backwards or skipping update exits 4.

Examples:
  $ buildflow shipment update "$TRACKING" --status shipped
  $ BUILDFLOW_TOKEN=$CARRIER_KEY buildflow shipment update "$TRACKING" --status delivered --json`,
    )
    .action(async (code, opts) => {
      const api = await apiClient(opts, { token: opts.token });
      const accepted = await api.post<ShipmentUpdateAccepted>(argPath('/v1/shipments/{trackingCode}/status', { trackingCode: ['<trackingCode>', code] }), { status: opts.status });
      if (opts.json) return printJson(accepted);
      printLine(`${accepted.trackingCode}: ${accepted.requestedStatus} accepted (currently ${accepted.status})`);
    });
}

export function registerTrack(program: Command): void {
  serverOptions(program.command('track').description('follow a shipment by its tracking code (no sign-in needed)').argument('<trackingCode>', 'the tracking code, TRK…'))
    .option('--json', 'print { trackingCode, status, history } as JSON')
    .addHelpText('after', '\nExamples:\n  $ buildflow track "$TRACKING"\n  $ buildflow track "$TRACKING" --json | jq -r .status')
    .action(async (code, opts) => {
      const api = await apiClient(opts);
      const view = await api.get<TrackingView>(argPath('/v1/tracking/{code}', { code: ['<trackingCode>', code] }));
      if (opts.json) return printJson(view);
      printRecord([
        ['tracking code', view.trackingCode],
        ['status', view.status],
      ]);
      printTable(['status', 'at'], view.history.map((h) => [h.status, h.at]));
    });
}
