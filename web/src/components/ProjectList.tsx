import type { Project } from "../api/client";
import type { Paged } from "../hooks";
import { href } from "../router";
import { ErrorNote, LoadMore, Loading, Plural, TagLink, When } from "./ui";

export function ProjectCard({ project }: { project: Project }) {
  return (
    <article className="card project-card" aria-labelledby={`p-${project.project_id}`}>
      <h3 id={`p-${project.project_id}`}>
        <a href={href(`/projects/${project.project_id}`)}>{project.project_name}</a>
      </h3>
      <p className="tagline">{project.tagline}</p>
      {project.tags.length > 0 && (
        <ul className="tags" aria-label="Tags">
          {project.tags.map((t) => (
            <li key={t}>
              <TagLink tag={t} />
            </li>
          ))}
        </ul>
      )}
      <p className="meta">
        <span>
          <Plural n={project.problem_count} one="problem" many="problems" />
        </span>
        <span>
          <Plural n={project.solution_count} one="solution" many="solutions" />
        </span>
        <span>
          <Plural n={project.comment_count} one="comment" many="comments" />
        </span>
        <span title="Votes on its threads, up minus down">score {project.score}</span>
        <span>
          {project.proposer_name ? `by ${project.proposer_name}, ` : ""}
          <When at={project.created_at} />
        </span>
      </p>
    </article>
  );
}

/** A paged list of projects with its loading, error, empty and "load more" states. */
export function ProjectList({ list, label, empty }: { list: Paged<Project>; label: string; empty: string }) {
  return (
    <>
      {list.loading && list.items.length === 0 && <Loading what={label.toLowerCase()} />}
      <ErrorNote error={list.error} />
      {!list.loading && !list.error && list.items.length === 0 && <p className="empty">{empty}</p>}
      {list.items.length > 0 && (
        <ul className="cards" aria-label={label}>
          {list.items.map((p) => (
            <li key={p.project_id}>
              <ProjectCard project={p} />
            </li>
          ))}
        </ul>
      )}
      <LoadMore more={list.more} loading={list.loading} onMore={list.loadMore} />
    </>
  );
}
