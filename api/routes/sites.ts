import type { Router } from 'express';
import {
  createProject,
  createSite,
  getProject,
  getSite,
  listProjects,
  listSites,
  Project,
  Site,
} from '../../db/repositories/sites';
import type { ResolvedDeps } from '../deps';
import { resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { readBody, requiredString, requiredTimeZone } from '../validation';

const NAME = { max: 200, trim: true };

const projectJson = (p: Project) => ({
  object: 'project',
  id: p.id,
  name: p.name,
  created_at: iso(p.createdAt),
});

const siteJson = (s: Site) => ({
  object: 'site',
  id: s.id,
  project_id: s.projectId,
  name: s.name,
  time_zone: s.timeZone,
  created_at: iso(s.createdAt),
});

export function registerSiteRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/projects',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, ['name']);
      const name = requiredString(body, 'name', NAME);
      return { status: 201, body: projectJson(await createProject(db, org.id, { name })) };
    }),
  );

  router.get(
    '/projects',
    read(deps, async ({ db, org, query }) => {
      const page = await listProjects(db, org.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, projectJson, (p) => p.id) };
    }),
  );

  router.get(
    '/projects/:id',
    read(deps, async ({ db, org, params }) => {
      const project = await getProject(db, org.id, params.id);
      if (!project) throw resourceMissing('project', params.id);
      return { status: 200, body: projectJson(project) };
    }),
  );

  router.post(
    '/sites',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, ['project_id', 'name', 'time_zone']);
      const projectId = requiredString(body, 'project_id', { max: 255 });
      const name = requiredString(body, 'name', NAME);
      const timeZone = requiredTimeZone(body, 'time_zone');
      if (!(await getProject(db, org.id, projectId)))
        throw resourceMissing('project', projectId, 'project_id');
      return { status: 201, body: siteJson(await createSite(db, org.id, { projectId, name, timeZone })) };
    }),
  );

  router.get(
    '/sites',
    read(deps, async ({ db, org, query }) => {
      const page = await listSites(db, org.id, parsePage(query), {
        projectId: queryString(query, 'project_id'),
      });
      return { status: 200, body: listEnvelope(page, siteJson, (s) => s.id) };
    }),
  );

  router.get(
    '/sites/:id',
    read(deps, async ({ db, org, params }) => {
      const site = await getSite(db, org.id, params.id);
      if (!site) throw resourceMissing('site', params.id);
      return { status: 200, body: siteJson(site) };
    }),
  );
}
