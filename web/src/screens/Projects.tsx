// The project list: sort, search, tag filter, "load more"; following the
// filtered tags.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { ProjectList } from "../components/ProjectList";
import { ErrorNote } from "../components/ui";
import { useLoad, usePaged, useSession } from "../hooks";
import { href, navigate, type Route } from "../router";

const SORTS = [
  { value: "new", label: "New" },
  { value: "top", label: "Top" },
  { value: "active", label: "Active" },
] as const;

export function ProjectsScreen({ route }: { route: Route }) {
  const session = useSession();
  const sort = route.params.get("sort") ?? "new";
  const tags = route.params.getAll("tag");
  const q = route.params.get("q") ?? "";
  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);

  const list = usePaged((cursor, signal) => api.projects({ sort, tag: tags, q: q || undefined, cursor }, signal), [sort, tags.join("\u0000"), q]);
  const popular = useLoad((signal) => api.tags(20, signal), []);

  const go = (next: { sort?: string; tag?: string[]; q?: string }) =>
    navigate(href("/", { sort: (next.sort ?? sort) === "new" ? undefined : (next.sort ?? sort), tag: next.tag ?? tags, q: next.q ?? q }));
  const toggleTag = (tag: string) => go({ tag: tags.includes(tag) ? tags.filter((t) => t !== tag) : [...tags, tag] });

  return (
    <>
      <div className="screen-head">
        <h1>Projects</h1>
        <a className="button" href="#/propose">
          Propose a project
        </a>
      </div>

      <form
        role="search"
        className="search"
        onSubmit={(e) => {
          e.preventDefault();
          go({ q: search.trim() });
        }}
      >
        <label htmlFor="project-search" className="visually-hidden">
          Search projects
        </label>
        <input id="project-search" type="search" placeholder="Search names and taglines" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit" className="button">
          Search
        </button>
      </form>

      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Sort">
          {SORTS.map((s) => (
            <button key={s.value} type="button" aria-pressed={sort === s.value} onClick={() => go({ sort: s.value })}>
              {s.label}
            </button>
          ))}
        </div>
        {popular.data && popular.data.length > 0 && (
          <div className="tag-filter" role="group" aria-label="Filter by tag">
            {popular.data.map((t) => (
              <button key={t.tag} type="button" className="chip" aria-pressed={tags.includes(t.tag)} onClick={() => toggleTag(t.tag)}>
                #{t.tag} <span className="count">{t.project_count}</span>
              </button>
            ))}
          </div>
        )}
      </div>

      {(tags.length > 0 || q) && (
        <p className="filters" aria-live="polite">
          Showing projects
          {q && (
            <>
              {" "}
              matching “{q}”{" "}
              <button type="button" className="link-button" onClick={() => go({ q: "" })}>
                clear search
              </button>
            </>
          )}
          {tags.length > 0 && (
            <>
              {" "}
              tagged {tags.map((t) => `#${t}`).join(" and ")}{" "}
              <button type="button" className="link-button" onClick={() => go({ tag: [] })}>
                clear tags
              </button>
            </>
          )}
          {session && tags.length > 0 && <FollowButtons tags={tags} />}
        </p>
      )}

      <ProjectList list={list} label="Projects" empty={q || tags.length ? "No project matches." : "No projects yet: propose the first one."} />
    </>
  );
}

/** Follow or unfollow the tags being filtered on. */
function FollowButtons({ tags }: { tags: string[] }) {
  const followed = useLoad((signal) => api.followedTags(signal), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  if (!followed.data) return null;
  const current = followed.data.tags;
  const toggle = async (tag: string) => {
    setBusy(true);
    setError(null);
    try {
      await api.followTags(current.includes(tag) ? current.filter((t) => t !== tag) : [...current, tag]);
      followed.reload();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="follow-buttons">
      {tags.map((tag) => (
        <button key={tag} type="button" className="button small secondary" aria-pressed={current.includes(tag)} disabled={busy} onClick={() => toggle(tag)}>
          {current.includes(tag) ? `Following #${tag}` : `Follow #${tag}`}
        </button>
      ))}
      {error && <ErrorNote>{error.message}</ErrorNote>}
    </span>
  );
}
