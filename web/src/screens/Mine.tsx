// My projects and my threads, with their moderation status and reasons.
import { useState } from "react";
import { api } from "../api/client";
import { ProjectList } from "../components/ProjectList";
import { ThreadItem } from "../components/ThreadItem";
import { ErrorNote, LoadMore, Loading } from "../components/ui";
import { usePaged } from "../hooks";

const STATUSES = [
  { value: "", label: "All" },
  { value: "pending", label: "Awaiting moderation" },
  { value: "approved", label: "Approved" },
  { value: "rejected", label: "Rejected" },
];

export function MineScreen() {
  const projects = usePaged((cursor, signal) => api.myProjects(cursor, signal), []);
  const [status, setStatus] = useState("");
  const threads = usePaged((cursor, signal) => api.myThreads(status || undefined, cursor, signal), [status]);
  return (
    <>
      <h1>Mine</h1>
      <section aria-labelledby="my-projects">
        <h2 id="my-projects">My projects</h2>
        <ProjectList list={projects} label="My projects" empty="You have not proposed a project yet." />
      </section>
      <section aria-labelledby="my-threads">
        <div className="screen-head">
          <h2 id="my-threads">My threads</h2>
          <label className="sort-select">
            Show{" "}
            <select value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        {threads.loading && threads.items.length === 0 && <Loading what="your threads" />}
        <ErrorNote error={threads.error} />
        {!threads.loading && !threads.error && threads.items.length === 0 && <p className="empty">No threads here.</p>}
        <div className="thread-list" aria-label="My threads">
          {threads.items.map((t) => (
            <ThreadItem key={t.thread_id} thread={t} isReply={!!t.parent_thread_id} showProjectLink />
          ))}
        </div>
        <LoadMore more={threads.more} loading={threads.loading} onMore={threads.loadMore} />
      </section>
    </>
  );
}
