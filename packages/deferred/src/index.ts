/**
 * @jobgraph/deferred: values computed during a run (Variables, Capture), and templates
 * rendered with them at the last moment (Deferred).
 * @packageDocumentation
 */
export { Capture } from './capture.js';
export { Deferred } from './deferred.js';
export { DeferredError, DeferredErrorCode, type TemplatePosition } from './errors.js';
export { type RenderOptions, renderTemplate, shquote, templateSyntaxError } from './render.js';
export { explainTemplateError, includedTemplate, templateErrorPosition } from './template-errors.js';
export { Variables } from './variables.js';
