import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.js';
import { authRoutes } from './auth.js';
import { jobRoutes } from './jobs.js';
import { projectRoutes } from './projects.js';
import { assetRoutes } from './assets.js';
import { imagingRoutes } from './imaging.js';
import { labelmapRoutes } from './labelmaps.js';
import { dicomHeaderRoutes } from './dicom-header.js';
import { exchangeRoutes } from './exchange.js';
import { qualityRoutes } from './quality.js';
import { reviewRoutes } from './review.js';

export async function registerRoutes(app: FastifyInstance, deps: Deps) {
  authRoutes(app, deps);
  projectRoutes(app, deps);
  assetRoutes(app, deps);
  jobRoutes(app, deps);
  imagingRoutes(app, deps);
  dicomHeaderRoutes(app, deps);
  exchangeRoutes(app, deps);
  qualityRoutes(app, deps);
  reviewRoutes(app, deps);
  await labelmapRoutes(app, deps);
}
