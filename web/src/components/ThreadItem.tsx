// One thread (or reply) with what its reader may do to it: vote, reply, edit,
// withdraw, and read its replies.
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, type Direction, type Thread } from "../api/client";
import { isModerator } from "../auth";
import { usePaged, useSession } from "../hooks";
import { href } from "../router";
import { ErrorNote, Field, LoadMore, Loading, StatusBadge, When, describe } from "./ui";

const TYPE_LABEL: Record<string, string> = { PROBLEM: "Problem", SOLUTION: "Solution", COMMENT: "Comment" };

interface Props {
  thread: Thread;
  /** Something the project shows changed (counts, score): reload it. */
  onChanged?: () => void;
  /** Replies are not replied to (one level, as the project page shows them). */
  isReply?: boolean;
  /** Shows a link to the thread's project (in "my threads" and the moderation queue). */
  showProjectLink?: boolean;
}

export function ThreadItem({ thread, onChanged, isReply = false, showProjectLink = false }: Props) {
  const session = useSession();
  const [view, setView] = useState(thread);
  const [mode, setMode] = useState<"none" | "reply" | "edit" | "withdraw">("none");
  const [showReplies, setShowReplies] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [repliesRound, setRepliesRound] = useState(0);

  useEffect(() => setView(thread), [thread]);

  const mine = !!session && session.userId === view.author;
  const open = view.status !== "rejected" && view.status !== "withdrawn";
  const withdrawn = view.status === "withdrawn";

  // The thread as it is now (what a write did to it; the read waits for that write).
  const refresh = async () => {
    const fresh = await api.thread(view.thread_id);
    const { replies: _replies, ...rest } = fresh;
    setView(rest as Thread);
  };

  // A new or edited thread of one's own waits for the automatic moderator: look
  // again a few times, further apart each time, until it is decided.
  useEffect(() => {
    if (view.status !== "pending" || !mine) return;
    let attempt = 0;
    let timer: number | undefined;
    let stopped = false;
    const again = () => {
      if (stopped || attempt >= 8) return;
      timer = window.setTimeout(async () => {
        attempt += 1;
        try {
          const fresh = await api.thread(view.thread_id);
          if (stopped) return;
          if (fresh.status !== "pending") {
            const { replies: _r, ...rest } = fresh;
            setView(rest as Thread);
            onChanged?.();
            return;
          }
        } catch {
          /* shown on the next action */
        }
        again();
      }, 500 * 2 ** attempt);
    };
    again();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [view.status, view.thread_id, mine]);

  const act = async (action: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      await refresh();
      after?.();
      onChanged?.();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, { title: String(err) }));
    } finally {
      setBusy(false);
    }
  };

  const vote = (direction: Direction) => {
    const next = view.my_vote === direction ? "none" : direction;
    void act(() => api.vote(view.thread_id, next));
  };

  const typeLabel = TYPE_LABEL[view.thread_type] ?? view.thread_type;
  const author = view.author_name ?? view.author;

  return (
    <article className={`thread thread-${view.status}${isReply ? " reply" : ""}`} aria-label={`${isReply ? "Reply" : typeLabel} by ${author}`}>
      <header className="thread-head">
        {!isReply && <span className={`kind kind-${view.thread_type.toLowerCase()}`}>{typeLabel}</span>}
        <span className="author">{author}</span>
        <When at={view.created_at} />
        {view.edited_at && <span className="muted">(edited)</span>}
        <StatusBadge thread={view} />
      </header>

      {mode === "edit" ? (
        <EditForm
          initial={view.message ?? ""}
          busy={busy}
          error={error}
          onCancel={() => {
            setMode("none");
            setError(null);
          }}
          onSave={(message) => act(() => api.editThread(view.thread_id, message), () => setMode("none"))}
        />
      ) : (
        <div className="thread-body">
          {view.message !== null && view.message !== undefined ? (
            <p className="message">{view.message}</p>
          ) : (
            <p className="withheld">
              {withdrawn
                ? "This thread was withdrawn."
                : view.status === "rejected"
                  ? "This thread was rejected by moderation."
                  : "Awaiting moderation: shown once a moderator approves it."}
            </p>
          )}
        </div>
      )}

      {showProjectLink && (
        <p className="meta">
          <a href={href(`/projects/${view.project_id}`)}>Open its project</a>
        </p>
      )}

      <div className="thread-actions">
        {!withdrawn && (
          <div className="votes" role="group" aria-label="Votes">
            <button
              type="button"
              className="vote up"
              aria-pressed={view.my_vote === "up"}
              aria-label={`Upvote (${view.up_vote})`}
              title={session ? (open ? "Upvote" : "Closed to votes") : "Sign in to vote"}
              disabled={!session || !open || busy}
              onClick={() => vote("up")}
            >
              <span aria-hidden="true">▲</span> {view.up_vote}
            </button>
            <button
              type="button"
              className="vote down"
              aria-pressed={view.my_vote === "down"}
              aria-label={`Downvote (${view.down_vote})`}
              title={session ? (open ? "Downvote" : "Closed to votes") : "Sign in to vote"}
              disabled={!session || !open || busy}
              onClick={() => vote("down")}
            >
              <span aria-hidden="true">▼</span> {view.down_vote}
            </button>
          </div>
        )}
        {!isReply && session && open && (
          <button type="button" className="link-button" aria-expanded={mode === "reply"} onClick={() => setMode(mode === "reply" ? "none" : "reply")}>
            Reply
          </button>
        )}
        {mine && !withdrawn && mode !== "edit" && (
          <button type="button" className="link-button" onClick={() => setMode("edit")}>
            Edit
          </button>
        )}
        {(mine || isModerator(session)) && !withdrawn && (
          <button type="button" className="link-button danger" onClick={() => setMode(mode === "withdraw" ? "none" : "withdraw")}>
            Withdraw
          </button>
        )}
        {!isReply && view.reply_count > 0 && (
          <button type="button" className="link-button" aria-expanded={showReplies} onClick={() => setShowReplies(!showReplies)}>
            {showReplies ? "Hide replies" : `Show ${view.reply_count} ${view.reply_count === 1 ? "reply" : "replies"}`}
          </button>
        )}
      </div>

      {mode === "withdraw" && (
        <div className="confirm" role="group" aria-label="Confirm withdrawal">
          <span>Withdraw this thread? It leaves every listing; its replies stay.</span>
          <button type="button" className="button danger" disabled={busy} onClick={() => act(() => api.withdrawThread(view.thread_id), () => setMode("none"))}>
            Yes, withdraw
          </button>
          <button type="button" className="button secondary" onClick={() => setMode("none")}>
            Keep it
          </button>
        </div>
      )}
      {mode !== "edit" && <ErrorNote error={error} />}

      {mode === "reply" && (
        <ReplyForm
          projectId={view.project_id}
          parentId={view.thread_id}
          onDone={async () => {
            setMode("none");
            await refresh();
            setShowReplies(true);
            setRepliesRound((r) => r + 1);
            onChanged?.();
          }}
        />
      )}

      {showReplies && !isReply && <Replies threadId={view.thread_id} round={repliesRound} onChanged={onChanged} />}
    </article>
  );
}

function Replies({ threadId, round, onChanged }: { threadId: string; round: number; onChanged?: () => void }) {
  const list = usePaged((cursor, signal) => api.replies(threadId, cursor, signal), [threadId, round]);
  return (
    <section className="replies" aria-label="Replies">
      {list.loading && list.items.length === 0 && <Loading what="replies" />}
      <ErrorNote error={list.error} />
      {list.items.map((r) => (
        <ThreadItem key={r.thread_id} thread={r} isReply onChanged={onChanged} />
      ))}
      <LoadMore more={list.more} loading={list.loading} onMore={list.loadMore} label="More replies" />
    </section>
  );
}

function EditForm(props: { initial: string; busy: boolean; error: ApiError | null; onSave: (m: string) => void; onCancel: () => void }) {
  const [message, setMessage] = useState(props.initial);
  const fieldError = props.error?.fieldErrors.message;
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSave(message);
      }}
    >
      <Field label="Message" error={fieldError} hint="An edited thread is moderated again.">
        {(a) => <textarea {...a} rows={3} value={message} onChange={(e) => setMessage(e.target.value)} />}
      </Field>
      {props.error && !fieldError && <ErrorNote>{describe(props.error)}</ErrorNote>}
      <div className="form-actions">
        <button type="submit" className="button" disabled={props.busy}>
          Save
        </button>
        <button type="button" className="button secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function ReplyForm({ projectId, parentId, onDone }: { projectId: string; parentId: string; onDone: () => void }) {
  return (
    <MessageForm
      className="inline-form"
      label="Your reply"
      rows={2}
      submitLabel="Post reply"
      send={(message) => api.startThread(projectId, { thread_type: "COMMENT", message, parent_thread_id: parentId })}
      onDone={onDone}
    />
  );
}

/** One message to post (a new thread or a reply): sent with `send`, then the form empties and `onDone` runs. */
export function MessageForm({
  className,
  label,
  rows,
  submitLabel,
  send,
  onDone,
}: {
  className: string;
  label: string;
  rows: number;
  submitLabel: string;
  send: (message: string) => Promise<unknown>;
  onDone: () => void;
}) {
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await send(message);
      setMessage("");
      onDone();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = error?.fieldErrors.message;
  return (
    <form className={className} onSubmit={submit}>
      <Field label={label} error={fieldError}>
        {(a) => <textarea {...a} rows={rows} value={message} onChange={(e) => setMessage(e.target.value)} />}
      </Field>
      {error && !fieldError && <ErrorNote error={error} />}
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}
