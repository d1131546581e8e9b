// A project's page: what it is, its threads by type with their replies, and
// what its reader may do (start a thread, hide it; its proposer: change it).
import { useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { anyInPages, api, ApiError, type ProjectDetail, type ThreadType } from "../api/client";
import { MessageForm, ThreadItem } from "../components/ThreadItem";
import { ErrorNote, Field, LoadMore, Loading, TagLink, When } from "../components/ui";
import { useLoad, usePaged, useSession } from "../hooks";
import type { Route } from "../router";

const TABS: { type: ThreadType; label: string; count: (p: ProjectDetail) => number }[] = [
  { type: "PROBLEM", label: "Problems", count: (p) => p.problem_count },
  { type: "SOLUTION", label: "Solutions", count: (p) => p.solution_count },
  { type: "COMMENT", label: "Comments", count: (p) => p.comment_count },
];

export function ProjectScreen({ id, route }: { id: string; route: Route }) {
  const session = useSession();
  const project = useLoad((signal) => api.project(id, signal), [id, session?.userId]);
  const [editing, setEditing] = useState(false);
  const p = project.data;

  if (!p) {
    return project.error ? <ErrorNote error={project.error} /> : <Loading what="the project" />;
  }
  const mine = !!session && session.userId === p.proposer;
  return (
    <>
      <article className="project" aria-labelledby="project-name">
        {editing ? (
          <EditProject
            project={p}
            onDone={() => {
              setEditing(false);
              project.reload();
            }}
          />
        ) : (
          <>
            <h1 id="project-name">{p.project_name}</h1>
            <p className="tagline lead">{p.tagline}</p>
            {p.tags.length > 0 && (
              <ul className="tags" aria-label="Tags">
                {p.tags.map((t) => (
                  <li key={t}>
                    <TagLink tag={t} />
                  </li>
                ))}
              </ul>
            )}
            <p className="meta">
              <span>Proposed by {p.proposer_name ?? p.proposer}</span>
              <When at={p.created_at} />
              <span>score {p.score}</span>
              <span>
                {p.thread_count} {p.thread_count === 1 ? "thread" : "threads"}
              </span>
            </p>
            <div className="project-actions">
              {mine && (
                <button type="button" className="button secondary" onClick={() => setEditing(true)}>
                  Change project
                </button>
              )}
              {session && <HideButton projectId={p.project_id} />}
            </div>
          </>
        )}
      </article>
      <Threads project={p} initialType={(route.params.get("type") as ThreadType) || "PROBLEM"} onChanged={project.reload} />
    </>
  );
}

function HideButton({ projectId }: { projectId: string }) {
  // Whether it is hidden: the most recently hidden come first, so a project
  // just hidden is on the first page; an older one is found further on.
  const hidden = useLoad(
    (signal) => anyInPages((cursor) => api.hidden(cursor, 100, signal), (p) => p.project_id === projectId),
    [projectId],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  if (hidden.data === undefined) return null;
  const isHidden = hidden.data;
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.hide(projectId, !isHidden);
      hidden.reload();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="hide-control">
      {isHidden && <span className="muted">Hidden from your lists. </span>}
      <button type="button" className="button secondary" disabled={busy} onClick={toggle}>
        {isHidden ? "Unhide" : "Hide from my lists"}
      </button>
      <ErrorNote error={error} />
    </span>
  );
}

function EditProject({ project, onDone }: { project: ProjectDetail; onDone: () => void }) {
  const [name, setName] = useState(project.project_name);
  const [tagline, setTagline] = useState(project.tagline);
  const [tags, setTags] = useState<string[]>(project.tags);
  const [newTag, setNewTag] = useState("");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);

  const addTag = () => {
    const t = newTag.trim().toLowerCase();
    if (t && !tags.includes(t)) setTags([...tags, t]);
    setNewTag("");
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const renamed = name !== project.project_name;
      if (renamed || tagline !== project.tagline) {
        await api.changeProject(
          project.project_id,
          renamed ? { project_name: name, ...(tagline !== project.tagline && { tagline }) } : { tagline },
        );
      }
      const add = tags.filter((t) => !project.tags.includes(t));
      const remove = project.tags.filter((t) => !tags.includes(t));
      if (add.length || remove.length) await api.changeTags(project.project_id, { add, remove });
      onDone();
    } catch (err) {
      const apiError = err as ApiError;
      const byField = apiError.fieldErrors ?? {};
      // add[i] and remove[i] are the tag entries.
      const tagErrors = Object.entries(byField).filter(([k]) => /^(add|remove)/.test(k));
      if (tagErrors.length) byField.tags = tagErrors.map(([, m]) => m).join("; ");
      if (apiError.status === 409 && !byField.project_name) byField.project_name = apiError.message;
      setErrors(byField);
      if (!Object.keys(byField).length) setError(apiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} aria-labelledby="edit-heading" noValidate>
      <h1 id="edit-heading">Change project</h1>
      <Field label="Project name" error={errors.project_name}>
        {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Tagline" error={errors.tagline}>
        {(a) => <input {...a} value={tagline} onChange={(e) => setTagline(e.target.value)} />}
      </Field>
      <fieldset className="tag-editor">
        <legend>Tags</legend>
        <ul className="chips" aria-label="Current tags">
          {tags.map((t) => (
            <li key={t}>
              <span className="chip">
                #{t}
                <button type="button" className="chip-remove" aria-label={`Remove tag ${t}`} onClick={() => setTags(tags.filter((x) => x !== t))}>
                  ×
                </button>
              </span>
            </li>
          ))}
        </ul>
        <Field label="Add a tag" error={errors.tags}>
          {(a) => (
            <span className="row">
              <input
                {...a}
                value={newTag}
                onChange={(e) => setNewTag(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") {
                    e.preventDefault();
                    addTag();
                  }
                }}
              />
              <button type="button" className="button secondary" onClick={addTag}>
                Add tag
              </button>
            </span>
          )}
        </Field>
      </fieldset>
      <ErrorNote error={error} />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          Save changes
        </button>
        <button type="button" className="button secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Threads({ project, initialType, onChanged }: { project: ProjectDetail; initialType: ThreadType; onChanged: () => void }) {
  const session = useSession();
  const [type, setType] = useState<ThreadType>(TABS.some((t) => t.type === initialType) ? initialType : "PROBLEM");
  const [sort, setSort] = useState<"top" | "new">("top");
  const [round, setRound] = useState(0);
  const list = usePaged(
    (cursor, signal) => api.threads(project.project_id, { type, sort, cursor }, signal),
    [project.project_id, type, sort, round, session?.userId],
  );
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);

  const onKey = (e: KeyboardEvent, index: number) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step && e.key !== "Home" && e.key !== "End") return;
    e.preventDefault();
    const next = e.key === "Home" ? 0 : e.key === "End" ? TABS.length - 1 : (index + step + TABS.length) % TABS.length;
    setType(TABS[next]!.type);
    tabRefs.current[next]?.focus();
  };

  const current = TABS.find((t) => t.type === type)!;
  return (
    <section className="threads" aria-labelledby="threads-heading">
      <h2 id="threads-heading" className="visually-hidden">
        Threads
      </h2>
      <div className="threads-head">
        <div role="tablist" aria-label="Thread types" className="tabs">
          {TABS.map((t, i) => (
            <button
              key={t.type}
              ref={(el) => {
                tabRefs.current[i] = el;
              }}
              role="tab"
              id={`tab-${t.type}`}
              aria-selected={type === t.type}
              aria-controls="thread-panel"
              tabIndex={type === t.type ? 0 : -1}
              onClick={() => setType(t.type)}
              onKeyDown={(e) => onKey(e, i)}
            >
              {t.label} <span className="count">{t.count(project)}</span>
            </button>
          ))}
        </div>
        <label className="sort-select">
          Order{" "}
          <select value={sort} onChange={(e) => setSort(e.target.value as "top" | "new")}>
            <option value="top">Top</option>
            <option value="new">Newest</option>
          </select>
        </label>
      </div>
      <div role="tabpanel" id="thread-panel" aria-labelledby={`tab-${type}`}>
        {session ? (
          <NewThread
            projectId={project.project_id}
            type={type}
            label={current.label}
            onDone={() => {
              setSort("new");
              setRound((r) => r + 1);
              onChanged();
            }}
          />
        ) : (
          <p className="notice">
            <a href="#/sign-in">Sign in</a> to add to the discussion and vote.
          </p>
        )}
        {list.loading && list.items.length === 0 && <Loading what="threads" />}
        <ErrorNote error={list.error} />
        {!list.loading && !list.error && list.items.length === 0 && <p className="empty">No {current.label.toLowerCase()} yet.</p>}
        <div className="thread-list">
          {list.items.map((t) => (
            <ThreadItem key={t.thread_id} thread={t} onChanged={onChanged} />
          ))}
        </div>
        <LoadMore more={list.more} loading={list.loading} onMore={list.loadMore} />
      </div>
    </section>
  );
}

const NOUN: Record<ThreadType, string> = { PROBLEM: "problem", SOLUTION: "solution", COMMENT: "comment" };

function NewThread({ projectId, type, onDone }: { projectId: string; type: ThreadType; label: string; onDone: () => void }) {
  return (
    <MessageForm
      className="inline-form new-thread"
      label={`Add a ${NOUN[type]}`}
      rows={3}
      submitLabel={`Post ${NOUN[type]}`}
      send={(message) => api.startThread(projectId, { thread_type: type, message })}
      onDone={onDone}
    />
  );
}
