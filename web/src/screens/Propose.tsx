// Proposing a project: every field's error from the API shown beside it.
import { useState, type FormEvent } from "react";
import { api, ApiError, entryErrors } from "../api/client";
import { ErrorNote, Field } from "../components/ui";
import { useSession } from "../hooks";
import { navigate } from "../router";

function splitTags(raw: string): string[] {
  return raw
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
}

export function ProposeScreen() {
  const session = useSession();
  const [name, setName] = useState("");
  const [tagline, setTagline] = useState("");
  const [tags, setTags] = useState("");
  const [problems, setProblems] = useState([""]);
  const [solutions, setSolutions] = useState([""]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  if (!session) {
    return (
      <>
        <h1>Propose a project</h1>
        <p className="notice">
          <a href="#/sign-in?next=/propose">Sign in</a> to propose a project.
        </p>
      </>
    );
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    const tagList = splitTags(tags);
    try {
      const { project_id } = await api.propose({
        project_name: name,
        tagline,
        tags: tagList,
        // Blank entries are left out: the API says when none is left.
        problems: problems.map((p) => p.trim()).filter(Boolean),
        solutions: solutions.map((s) => s.trim()).filter(Boolean),
      });
      navigate(`#/projects/${project_id}`);
    } catch (err) {
      const apiError = err as ApiError;
      const byField = { ...apiError.fieldErrors };
      if (apiError.status === 409) byField.project_name = apiError.message;
      const tagProblems = entryErrors(byField, "tags");
      if (tagProblems.size) {
        byField.tags = [...tagProblems].map(([i, m]) => (i >= 0 ? `“${tagList[i]}”: ${m}` : m)).join("; ");
      }
      setErrors(byField);
      if (Object.keys(byField).length === 0) setError(apiError);
      // Move to the first field in error, so a keyboard or screen-reader user hears it.
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[aria-invalid=true]")?.focus());
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-labelledby="propose-heading">
      <h1 id="propose-heading">Propose a project</h1>
      <Field label="Project name" error={errors.project_name} hint="Up to 80 characters; no other project may have it.">
        {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Tagline" error={errors.tagline} hint="One line that says what it is (up to 255 characters).">
        {(a) => <input {...a} value={tagline} onChange={(e) => setTagline(e.target.value)} />}
      </Field>
      <Field label="Tags" error={errors.tags} hint="Separated by commas, at most 10.">
        {(a) => <input {...a} value={tags} onChange={(e) => setTags(e.target.value)} placeholder="e.g. garden, community" />}
      </Field>
      <EntryList label="Problem" plural="Problems it solves" field="problems" values={problems} onChange={setProblems} errors={errors} />
      <EntryList label="Solution" plural="Solutions it offers" field="solutions" values={solutions} onChange={setSolutions} errors={errors} />
      <ErrorNote error={error} />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          Propose
        </button>
      </div>
    </form>
  );
}

function EntryList(props: {
  label: string;
  plural: string;
  field: string;
  values: string[];
  onChange: (v: string[]) => void;
  errors: Record<string, string>;
}) {
  const { label, plural, field, values, onChange } = props;
  // Entries were sent without the blank ones: map the API's indexes back.
  const sentIndex: number[] = [];
  values.forEach((v, i) => v.trim() && sentIndex.push(i));
  const byEntry = entryErrors(props.errors, field);
  const whole = byEntry.get(-1);
  return (
    <fieldset className={`entries${whole ? " field-invalid" : ""}`} aria-describedby={whole ? `${field}-error` : undefined}>
      <legend>{plural}</legend>
      {whole && (
        <p className="field-error" id={`${field}-error`}>
          {whole}
        </p>
      )}
      {values.map((v, i) => {
        const sent = sentIndex.indexOf(i);
        return (
          <Field key={i} label={`${label} ${i + 1}`} error={sent >= 0 ? byEntry.get(sent) : undefined}>
            {(a) => (
              <span className="row">
                <textarea {...a} rows={2} value={v} onChange={(e) => onChange(values.map((x, j) => (j === i ? e.target.value : x)))} />
                {values.length > 1 && (
                  <button type="button" className="link-button" aria-label={`Remove ${label.toLowerCase()} ${i + 1}`} onClick={() => onChange(values.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                )}
              </span>
            )}
          </Field>
        );
      })}
      <button type="button" className="button secondary small" onClick={() => onChange([...values, ""])}>
        Add a {label.toLowerCase()}
      </button>
    </fieldset>
  );
}
