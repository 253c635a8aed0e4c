import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bulkDeadLetters, type DeadLetterFilter } from '../../core/pipeline/dead-letter-bulk.js';
import { pauseStep, resumeStep } from '../../core/pipeline/pauses.js';
import { pipelineStatus } from '../../core/pipeline/pipeline-status.js';
import { BEARER_SECURITY, allow } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { BulkResultSchema, DeadLetterFilterBody, PauseBody, PipelineStatusResponse, ResumeResponse, StepParams } from '../schemas/pipeline.js';
import type { RouteOptions } from './context.js';

const tags = ['admin'];
const security = BEARER_SECURITY;
const BOUND = 'Every worker obeys within 2 s (the paused steps are read at most once a second, plus one batch).';

/** Acting on the pipeline (admin): pause and resume a step, and dead letters in bulk. */
export const pipelineRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  // Every route here is the admin's: one hook for the plugin, so a route added later cannot go unguarded.
  fastify.addHook('onRequest', allow('admin'));

  fastify.get('/v1/admin/pipeline', {
    schema: {
      tags,
      security,
      summary: 'Each order step: paused or not, and the orders and stock waiting at it (admin)',
      response: { 200: PipelineStatusResponse, ...errorResponses(401, 403, 500, 503) },
    },
    handler: () => pipelineStatus(app.db),
  });

  fastify.post('/v1/admin/pipeline/:step/pause', {
    schema: {
      tags,
      security,
      summary: 'Pause a step for the whole deployment (admin)',
      description: `Orders reaching the step wait there with their status as it is; intake and the other steps go on. While pay is paused reservations do not expire. Stored in the database, so a restart does not lift it. ${BOUND} Pausing a paused step keeps its time and takes the new reason.`,
      params: StepParams,
      body: PauseBody,
      response: { 200: PipelineStatusResponse, ...errorResponses(400, 401, 403, 404, 415, 500, 503) },
    },
    handler: async (request) => {
      await pauseStep(app.units, request.params.step, request.body?.reason ?? null);
      return pipelineStatus(app.db);
    },
  });

  fastify.post('/v1/admin/pipeline/:step/resume', {
    schema: {
      tags,
      security,
      summary: 'Resume a paused step (admin)',
      description: `The orders waiting at it are due at once. ${BOUND} Resuming a step that runs changes nothing (\`resumed\` false).`,
      params: StepParams,
      response: { 200: ResumeResponse, ...errorResponses(401, 403, 404, 500, 503) },
    },
    handler: async (request) => {
      const resumed = await resumeStep(app.units, request.params.step);
      return { resumed, ...(await pipelineStatus(app.db)) };
    },
  });

  for (const action of ['retry', 'discard'] as const) {
    fastify.post(`/v1/admin/dead-letters/${action}`, {
      schema: {
        tags,
        security,
        summary: action === 'retry' ? 'Re-drive dead letters in bulk (admin)' : 'Discard dead letters in bulk (admin)',
        description:
          (action === 'retry'
            ? "Each matched message is queued again with a fresh attempt budget and resumes its order at the step the order's status names; an order whose run is over only loses the message. "
            : 'Each matched message leaves the dead letters with status `discarded`; its row stays, for the order\'s trace. ') +
          'One filter (or `all`) is required; `dryRun` reports the same and changes nothing. 404 DEAD_LETTER_NOT_FOUND when nothing matched.',
        body: DeadLetterFilterBody,
        response: { 200: BulkResultSchema, ...errorResponses(400, 401, 403, 404, 415, 500, 503) },
      },
      handler: async (request) => {
        const { dryRun, since, until, ...rest } = request.body;
        const filter: DeadLetterFilter = { ...rest };
        if (since !== undefined) filter.since = Date.parse(since);
        if (until !== undefined) filter.until = Date.parse(until);
        return bulkDeadLetters(app.units, action, filter, dryRun ?? false);
      },
    });
  }
};
