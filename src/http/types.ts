import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginOptions,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';

/** The Fastify instance every route file registers on, typed by its TypeBox schemas. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * A route module: a Fastify plugin taking the few services it needs as its options. Each
 * route file declares that options type itself and app.ts hands it just those, so this
 * transport layer knows no feature.
 */
export type RoutePlugin<Options extends FastifyPluginOptions> = FastifyPluginAsyncTypebox<Options>;
