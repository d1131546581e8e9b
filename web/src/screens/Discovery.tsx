// Followed tags and hidden projects.
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, entryErrors } from "../api/client";
import { ProjectCard } from "../components/ProjectList";
import { ErrorNote, Field, LoadMore, Loading } from "../components/ui";
import { useLoad, usePaged } from "../hooks";

export function DiscoveryScreen() {
  return (
    <>
      <h1>Followed tags and hidden projects</h1>
      <FollowedTags />
      <HiddenProjects />
    </>
  );
}

function FollowedTags() {
  const followed = useLoad((signal) => api.followedTags(signal), []);
  const [tags, setTags] = useState<string[]>([]);
  const [input, setInput] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  useEffect(() => followed.data && setTags(followed.data.tags), [followed.data]);

  const save = async (next: string[]) => {
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      const answer = await api.followTags(next);
      setTags(answer.tags);
      setSaved(true);
    } catch (err) {
      const e = err as ApiError;
      const byEntry = entryErrors(e.fieldErrors ?? {}, "tags");
      setError(byEntry.size ? [...byEntry].map(([i, m]) => (i >= 0 ? `“${next[i]}”: ${m}` : m)).join("; ") : e.message);
    } finally {
      setBusy(false);
    }
  };
  const add = (e: FormEvent) => {
    e.preventDefault();
    const fresh = input
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    if (fresh.length === 0) return;
    setInput("");
    void save([...tags, ...fresh]);
  };

  return (
    <section aria-labelledby="followed-heading">
      <h2 id="followed-heading">Followed tags</h2>
      <p className="muted">New projects with these tags come into your feed and lead your recommendations.</p>
      {followed.loading && !followed.data && <Loading what="followed tags" />}
      <ErrorNote error={followed.error} />
      {tags.length === 0 && followed.data && <p className="empty">You follow no tags.</p>}
      <ul className="chips" aria-label="Followed tags">
        {tags.map((t) => (
          <li key={t}>
            <span className="chip">
              #{t}
              <button type="button" className="chip-remove" aria-label={`Unfollow ${t}`} disabled={busy} onClick={() => save(tags.filter((x) => x !== t))}>
                ×
              </button>
            </span>
          </li>
        ))}
      </ul>
      <form className="inline-form row-form" onSubmit={add}>
        <Field label="Follow tags" error={error} hint="Separated by commas.">
          {(a) => <input {...a} value={input} onChange={(e) => setInput(e.target.value)} />}
        </Field>
        <button type="submit" className="button" disabled={busy}>
          Follow
        </button>
      </form>
      <p role="status" className="muted">
        {saved ? "Saved." : ""}
      </p>
    </section>
  );
}

function HiddenProjects() {
  const hidden = usePaged((cursor, signal) => api.hidden(cursor, undefined, signal), []);
  const [error, setError] = useState<ApiError | null>(null);
  const unhide = async (projectId: string) => {
    setError(null);
    try {
      await api.hide(projectId, false);
      hidden.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="hidden-heading">
      <h2 id="hidden-heading">Hidden projects</h2>
      <p className="muted">Left out of your lists, your feed and your recommendations; everyone else still sees them.</p>
      {hidden.loading && hidden.items.length === 0 && <Loading what="hidden projects" />}
      <ErrorNote error={hidden.error ?? error} />
      {!hidden.loading && !hidden.error && hidden.items.length === 0 && <p className="empty">You have hidden no projects.</p>}
      <ul className="cards" aria-label="Hidden projects">
        {hidden.items.map((p) => (
          <li key={p.project_id}>
            <ProjectCard project={p} />
            <button type="button" className="button secondary small" onClick={() => unhide(p.project_id)} aria-label={`Unhide ${p.project_name}`}>
              Unhide
            </button>
          </li>
        ))}
      </ul>
      <LoadMore more={hidden.more} loading={hidden.loading} onMore={hidden.loadMore} />
    </section>
  );
}
