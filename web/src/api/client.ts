// The one place the app talks to the APIs: every request, the types of what
// they answer (generated from their OpenAPI documents into query-api.ts and
// command-api.ts by `npm run api:types`), problem+json errors mapped to the
// fields they name, and read-your-writes.
//
// Read your writes: every write answers a consistency token; the app keeps the
// latest one (for the tab, in sessionStorage) and sends it as the
// Consistency-Token header of every read, so query-api answers only once it has
// applied that write. A token already applied costs nothing.
import type { components as Q } from "./query-api";
import type { components as C } from "./command-api";
import type { AppConfig } from "../config";
import { getSession, signOut } from "../auth";

type QS = Q["schemas"];
type CS = C["schemas"];
export type Project = QS["ProjectSummary"];
export type ProjectDetail = QS["ProjectDetail"];
export type Thread = QS["ThreadView"];
export type ThreadWithReplies = QS["ThreadWithReplies"];
export type TagCount = QS["TagCount"];
export type ThreadType = CS["ThreadType"];
export type Direction = CS["Direction"];
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
// Both documents' listings have this shape; the generic one serves the paging hook.
type ProjectPage = QS["ProjectPage"] & Page<Project>;
type ThreadPage = QS["ThreadPage"] & Page<Thread>;

/** A problem+json answer (its fields optional: a failure to get any answer has none of them). */
export type Problem = Partial<QS["Problem"]>;

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `The request failed (${status || "no answer"}).`);
    this.status = status;
    this.problem = problem;
  }

  /** The message for each field the API named, by field (`problems[1]` and `problems` kept apart). */
  get fieldErrors(): Record<string, string> {
    return fieldErrors(this.problem);
  }
}

export function fieldErrors(problem: Problem): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of problem.errors ?? []) {
    out[e.field] = out[e.field] ? `${out[e.field]}; ${e.message}` : e.message;
  }
  return out;
}

/** The messages for a field and its entries (`problems` and `problems[0]`, ...), by entry index; -1 for the field itself. */
export function entryErrors(errors: Record<string, string>, field: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const [key, message] of Object.entries(errors)) {
    if (key === field) out.set(-1, message);
    const m = key.match(/^(.+)\[(\d+)\]$/);
    if (m && m[1] === field) out.set(Number(m[2]), message);
  }
  return out;
}

// ------------------------------------------------------------------ transport

let config: AppConfig = { commandApi: "", queryApi: "" };
const CONSISTENCY_KEY = "flow.consistency-token";
let consistencyToken: string | null = null;

export function configureApi(c: AppConfig): void {
  config = c;
  consistencyToken = sessionStorage.getItem(CONSISTENCY_KEY);
}

/** The consistency token the next reads carry (the latest write's). */
export const lastConsistencyToken = (): string | null => consistencyToken;

function remember(token: string | null | undefined) {
  if (!token) return;
  consistencyToken = token;
  sessionStorage.setItem(CONSISTENCY_KEY, token);
}

function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

type Query = Record<string, string | number | string[] | undefined | null>;

function url(baseUrl: string, path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one));
  }
  const qs = params.toString();
  return `${baseUrl}${path}${qs ? `?${qs}` : ""}`;
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = (await response.json()) as Problem;
    return typeof body === "object" && body ? body : {};
  } catch {
    return { status: response.status, title: response.statusText };
  }
}

async function send<T>(target: string, init: RequestInit, attempts = 1): Promise<{ body: T; response: Response }> {
  const session = getSession();
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (session) headers.set("Authorization", `Bearer ${session.token}`);
  let response: Response;
  try {
    response = await fetch(target, { ...init, headers });
  } catch {
    // No answer (network down, the API stopped): a POST carries an
    // Idempotency-Key, so trying it again cannot write twice.
    if (attempts > 1) return send<T>(target, init, attempts - 1);
    throw new ApiError(0, { title: "The server cannot be reached. Check your connection and try again." });
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401 && session) {
      await signOut("Your session is no longer accepted: sign in again.");
    }
    throw new ApiError(response.status, problem);
  }
  const body = response.status === 204 ? (undefined as T) : ((await response.json()) as T);
  return { body, response };
}

/** A read from query-api, carrying the latest write's consistency token. */
export async function read<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = {};
  if (consistencyToken) headers["Consistency-Token"] = consistencyToken;
  const { body } = await send<T>(url(config.queryApi, path, query), { method: "GET", headers, signal });
  return body;
}

/** A write to command-api; its consistency token is kept for the reads after it. */
export async function write<T extends { consistency_token?: string }>(
  method: "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  payload?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = newKey();
  const { body, response } = await send<T>(
    url(config.commandApi, path),
    { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) },
    method === "POST" ? 2 : 1,
  );
  remember(body?.consistency_token ?? response.headers.get("Consistency-Token"));
  return body;
}

// ------------------------------------------------------------------ the routes

const id = encodeURIComponent;

export const api = {
  projects: (q: { sort?: string; tag?: string[]; q?: string; cursor?: string; limit?: number }, signal?: AbortSignal) =>
    read<ProjectPage>("/projects", q, signal),
  project: (projectId: string, signal?: AbortSignal) => read<ProjectDetail>(`/projects/${id(projectId)}`, {}, signal),
  threads: (projectId: string, q: { type?: ThreadType; sort?: QS["ThreadSort"]; cursor?: string; limit?: number }, signal?: AbortSignal) =>
    read<ThreadPage>(`/projects/${id(projectId)}/threads`, q, signal),
  thread: (threadId: string, signal?: AbortSignal) => read<ThreadWithReplies>(`/threads/${id(threadId)}`, {}, signal),
  replies: (threadId: string, cursor?: string, signal?: AbortSignal) =>
    read<ThreadPage>(`/threads/${id(threadId)}/replies`, { cursor, limit: 100 }, signal),
  tags: (limit = 30, signal?: AbortSignal) => read<TagCount[]>("/tags", { limit }, signal),
  recommendations: (signal?: AbortSignal) => read<QS["Recommendations"]>("/recommendations", { limit: 12 }, signal),
  feed: (cursor?: string, signal?: AbortSignal) => read<ProjectPage>("/me/feed", { cursor }, signal),
  myProjects: (cursor?: string, signal?: AbortSignal) => read<ProjectPage>("/me/projects", { cursor }, signal),
  myThreads: (status?: string, cursor?: string, signal?: AbortSignal) => read<ThreadPage>("/me/threads", { status, cursor }, signal),
  hidden: (cursor?: string, limit?: number, signal?: AbortSignal) => read<ProjectPage>("/me/hidden", { cursor, limit }, signal),
  followedTags: (signal?: AbortSignal) => read<QS["FollowedTags"]>("/me/followed-tags", {}, signal),
  queue: (status: "pending" | "rejected", cursor?: string, signal?: AbortSignal) =>
    read<ThreadPage>("/moderation/threads", { status, cursor }, signal),

  propose: (body: CS["ProposeProjectRequest"]) => write<CS["Proposed"]>("POST", "/projects/propose", body),
  changeProject: (projectId: string, body: CS["ChangeProjectRequest"]) =>
    write<CS["ProjectChanged"]>("PATCH", `/projects/${id(projectId)}`, body),
  changeTags: (projectId: string, body: CS["ChangeTagsRequest"]) => write<CS["TagsChanged"]>("PUT", `/projects/${id(projectId)}/tags`, body),
  startThread: (projectId: string, body: CS["StartThreadRequest"]) =>
    write<CS["ThreadWritten"]>("POST", `/projects/${id(projectId)}/threads`, body),
  editThread: (threadId: string, message: string) =>
    write<CS["ThreadWritten"]>("PATCH", `/threads/${id(threadId)}`, { message } satisfies CS["EditThreadRequest"]),
  withdrawThread: (threadId: string) => write<CS["Withdrawn"]>("DELETE", `/threads/${id(threadId)}`),
  vote: (threadId: string, direction: Direction) =>
    write<CS["Voted"]>("PUT", `/threads/${id(threadId)}/vote`, { direction } satisfies CS["VoteRequest"]),
  moderate: (threadId: string, status: CS["Decision"], reason?: string) =>
    write<CS["Moderated"]>("POST", `/threads/${id(threadId)}/moderation`, { status, reason } satisfies CS["ModerateRequest"]),
  hide: (projectId: string, hidden: boolean) =>
    write<CS["HiddenNow"]>("PUT", `/projects/${id(projectId)}/hidden`, { hidden } satisfies CS["HideRequest"]),
  followTags: (tags: string[]) => write<CS["TagsFollowed"]>("PUT", "/me/followed-tags", { tags } satisfies CS["FollowTagsRequest"]),
};

/**
 * Whether some item of a listing paged by cursor matches, reading page after
 * page until one does or the listing ends.
 */
export async function anyInPages<T>(
  load: (cursor: string | undefined) => Promise<Page<T>>,
  matches: (item: T) => boolean,
): Promise<boolean> {
  let cursor: string | undefined;
  for (;;) {
    const page = await load(cursor);
    if (page.items.some(matches)) return true;
    if (!page.next_cursor) return false;
    cursor = page.next_cursor;
  }
}
