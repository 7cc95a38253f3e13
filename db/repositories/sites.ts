import type { Knex } from 'knex';
import { newId } from '../ids';
import { fetchPage, Page, PageRequest } from './pagination';

export interface Project {
  id: string;
  organizationId: string;
  name: string;
  createdAt: Date;
}

export interface Site {
  id: string;
  organizationId: string;
  projectId: string;
  name: string;
  timeZone: string;
  createdAt: Date;
}

interface ProjectRow {
  id: string;
  organization_id: string;
  name: string;
  created_at: Date;
}

interface SiteRow {
  id: string;
  organization_id: string;
  project_id: string;
  name: string;
  time_zone: string;
  created_at: Date;
}

const toProject = (row: ProjectRow): Project => ({
  id: row.id,
  organizationId: row.organization_id,
  name: row.name,
  createdAt: row.created_at,
});

const toSite = (row: SiteRow): Site => ({
  id: row.id,
  organizationId: row.organization_id,
  projectId: row.project_id,
  name: row.name,
  timeZone: row.time_zone,
  createdAt: row.created_at,
});

export async function createProject(
  db: Knex,
  organizationId: string,
  input: { name: string },
): Promise<Project> {
  const [row] = await db<ProjectRow>('projects')
    .insert({ id: newId('prj'), organization_id: organizationId, name: input.name })
    .returning('*');
  return toProject(row);
}

export async function getProject(db: Knex, organizationId: string, id: string): Promise<Project | undefined> {
  const row = await db<ProjectRow>('projects').where({ organization_id: organizationId, id }).first();
  return row && toProject(row);
}

export async function listProjects(
  db: Knex,
  organizationId: string,
  page: PageRequest,
): Promise<Page<Project>> {
  return fetchPage(db('projects').where({ organization_id: organizationId }), page, 'id', toProject);
}

/** The caller checks that the project belongs to the same organization. */
export async function createSite(
  db: Knex,
  organizationId: string,
  input: { projectId: string; name: string; timeZone: string },
): Promise<Site> {
  const [row] = await db<SiteRow>('sites')
    .insert({
      id: newId('site'),
      organization_id: organizationId,
      project_id: input.projectId,
      name: input.name,
      time_zone: input.timeZone,
    })
    .returning('*');
  return toSite(row);
}

export async function getSite(db: Knex, organizationId: string, id: string): Promise<Site | undefined> {
  const row = await db<SiteRow>('sites').where({ organization_id: organizationId, id }).first();
  return row && toSite(row);
}

export async function listSites(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { projectId?: string } = {},
): Promise<Page<Site>> {
  const query = db('sites').where({ organization_id: organizationId });
  if (filter.projectId !== undefined) query.where({ project_id: filter.projectId });
  return fetchPage(query, page, 'id', toSite);
}
