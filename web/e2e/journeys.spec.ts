// The app's journeys, in a real browser against the real stack (e2e/run).
// Elements are found by role and accessible name, as a person or a screen
// reader finds them; every wait is an expectation that polls with a bound.
import { expect, test, type Page } from "@playwright/test";
import { proposeByApi, screenshot, signIn, users } from "./helpers";

const thread = (page: Page, text: string) => page.getByRole("article").filter({ hasText: text });

test("a proposal: errors beside their fields, then found by search and by tag", async ({ page }) => {
  // Each run starts from empty data (e2e/run): names need only differ between tests.
  const name = "Night lanterns";
  const tag = "lighting";
  await signIn(page, "alice");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Propose" }).click();
  await expect(page.getByRole("heading", { name: "Propose a project" })).toBeVisible();

  // Only a name: the API names every missing field, each shown beside its field.
  await page.getByLabel("Project name").fill(name);
  await page.getByRole("button", { name: "Propose", exact: true }).click();
  await expect(page.getByLabel("Tagline")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Tagline")).toHaveAccessibleDescription(/tagline must not be empty/);
  await expect(page.getByRole("group", { name: "Problems it solves" })).toHaveAccessibleDescription(/at least one entry in problems/);
  await expect(page.getByRole("group", { name: "Solutions it offers" })).toHaveAccessibleDescription(/at least one entry in solutions/);
  await expect(page.getByLabel("Project name")).not.toHaveAttribute("aria-invalid", "true");
  await screenshot(page, "propose-errors");

  await page.getByLabel("Tagline").fill("Lanterns that charge in the sun and light the village paths");
  await page.getByLabel("Tags").fill(`${tag}, Solar`);
  await page.getByLabel("Problem 1", { exact: true }).fill("The paths are dark after sunset");
  await page.getByRole("button", { name: "Add a problem" }).click();
  await page.getByLabel("Problem 2", { exact: true }).fill("Kerosene lamps are expensive");
  await page.getByLabel("Solution 1", { exact: true }).fill("Lend solar lanterns from the school");
  await page.getByRole("button", { name: "Propose", exact: true }).click();

  // The project's page, read after the write (its consistency token).
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByRole("tab", { name: /Problems/ })).toContainText("2");
  await expect(thread(page, "The paths are dark after sunset")).toBeVisible();

  // Found by search...
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects" }).click();
  await page.getByRole("searchbox", { name: "Search projects" }).fill("lanterns");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const results = page.getByRole("list", { name: "Projects" });
  await expect(results.getByRole("article")).toHaveCount(1);
  await expect(results.getByRole("link", { name })).toBeVisible();

  // ...and by tag (tags are lower-cased), from the project's own tag link.
  await results.getByRole("link", { name }).click();
  await page.getByRole("link", { name: `#${tag}` }).click();
  await expect(page.getByText(`tagged #${tag}`)).toBeVisible();
  await expect(page.getByRole("list", { name: "Projects" }).getByRole("article")).toHaveCount(1);
  await expect(page.getByRole("link", { name })).toBeVisible();
});

test("a discussion: comment, reply, vote and see the count and one's own vote", async ({ page }) => {
  const name = "Rooftop gardens";
  const id = await proposeByApi("alice", {
    project_name: name,
    tagline: "Vegetables on the roofs of the old town",
    tags: ["garden", "food"],
    problems: ["Fresh vegetables are far away"],
    solutions: ["Grow them on flat roofs"],
  });
  await signIn(page, "bob", `/projects/${id}`);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();

  await page.getByRole("tab", { name: /Comments/ }).click();
  await page.getByLabel("Add a comment").fill("Which roofs can hold the weight?");
  await page.getByRole("button", { name: "Post comment" }).click();
  const comment = thread(page, "Which roofs can hold the weight?");
  await expect(comment).toBeVisible();
  // The automatic moderator approves it (the app looks again while it waits).
  await expect(comment.getByText("Awaiting moderation")).toBeHidden();
  await expect(page.getByRole("tab", { name: /Comments/ })).toContainText("1");

  await comment.getByRole("button", { name: "Reply", exact: true }).click();
  await comment.getByLabel("Your reply").fill("The engineers at the town hall can tell.");
  await comment.getByRole("button", { name: "Post reply" }).click();
  const replies = comment.getByRole("region", { name: "Replies" });
  await expect(replies.getByText("The engineers at the town hall can tell.")).toBeVisible();
  await expect(comment.getByRole("button", { name: "Hide replies" })).toBeVisible();

  // Votes on the project's problem: the count and one's own vote.
  await page.getByRole("tab", { name: /Problems/ }).click();
  const problem = thread(page, "Fresh vegetables are far away");
  const up = problem.getByRole("button", { name: /^Upvote/ });
  const down = problem.getByRole("button", { name: /^Downvote/ });
  await expect(up).toHaveAttribute("aria-pressed", "false");
  await up.click();
  await expect(up).toHaveAttribute("aria-pressed", "true");
  await expect(up).toHaveAccessibleName("Upvote (1)");
  // What the server keeps: the same after a reload.
  await page.reload();
  await expect(up).toHaveAttribute("aria-pressed", "true");
  await expect(up).toHaveAccessibleName("Upvote (1)");
  await expect(page.getByText("score 1")).toBeVisible();
  await screenshot(page, "project");
  await down.click();
  await expect(down).toHaveAttribute("aria-pressed", "true");
  await expect(up).toHaveAttribute("aria-pressed", "false");
  await expect(up).toHaveAccessibleName("Upvote (0)");
  await expect(down).toHaveAccessibleName("Downvote (1)");
  // Pressing one's vote again withdraws it.
  await down.click();
  await expect(down).toHaveAttribute("aria-pressed", "false");
  await expect(down).toHaveAccessibleName("Downvote (0)");

  // On a phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("tab", { name: /Comments/ }).click();
  await comment.getByRole("button", { name: /Show 1 reply/ }).click();
  await expect(comment.getByText("The engineers at the town hall can tell.")).toBeVisible();
  await screenshot(page, "project-phone");
});

test("a banned word: rejected with its reason to its author only, approved from the moderators' queue", async ({ browser }) => {
  const id = await proposeByApi("alice", {
    project_name: "Footbridge over the Wey",
    tagline: "A footbridge over the river for the school children",
    tags: ["bridge"],
    problems: ["The detour is two kilometres"],
    solutions: ["A light steel footbridge"],
  });
  const text = "Stopping terrorism is not what a footbridge is for.";

  const bob = await (await browser.newContext()).newPage();
  await signIn(bob, "bob", `/projects/${id}`);
  await bob.getByRole("tab", { name: /Comments/ }).click();
  await bob.getByLabel("Add a comment").fill(text);
  await bob.getByRole("button", { name: "Post comment" }).click();
  const mine = thread(bob, text);
  await expect(mine.getByText("Rejected", { exact: true })).toBeVisible();
  await expect(mine.getByText(/Reason: .*terrorism/)).toBeVisible();
  await expect(mine.getByRole("button", { name: /^Upvote/ })).toBeDisabled();

  // In "Mine", with its reason.
  await bob.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Mine" }).click();
  await expect(bob.getByRole("heading", { name: "My threads" })).toBeVisible();
  const listed = thread(bob, text);
  await expect(listed.getByText("Rejected", { exact: true })).toBeVisible();
  await expect(listed.getByText(/Reason: .*terrorism/)).toBeVisible();
  await screenshot(bob, "mine");

  // Someone else sees that a thread was rejected, not its text nor the reason.
  const alice = await (await browser.newContext()).newPage();
  await signIn(alice, "alice", `/projects/${id}`);
  await alice.getByRole("tab", { name: /Comments/ }).click();
  const seen = alice.getByRole("article", { name: "Comment by Bob" });
  await expect(seen.getByText("This thread was rejected by moderation.")).toBeVisible();
  await expect(seen.getByText("Rejected", { exact: true })).toBeVisible();
  await expect(alice.getByText(text)).toHaveCount(0);
  await expect(alice.getByText(/Reason:/)).toHaveCount(0);

  // A moderator approves it from the queue of rejected threads.
  const mod = await (await browser.newContext()).newPage();
  await signIn(mod, "mod");
  await mod.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Moderation" }).click();
  await mod.getByRole("button", { name: "Rejected", exact: true }).click();
  const queued = mod.getByRole("list", { name: "Rejected threads" }).getByRole("listitem").filter({ hasText: text });
  await expect(queued.getByText(/Reason: .*terrorism/)).toBeVisible();
  await screenshot(mod, "moderation");
  await queued.getByRole("button", { name: "Approve" }).click();
  await expect(queued).toHaveCount(0);

  // Now everyone reads it.
  await alice.reload();
  await alice.getByRole("tab", { name: /Comments/ }).click();
  await expect(alice.getByText(text)).toBeVisible();
  await expect(alice.getByText("This thread was rejected by moderation.")).toHaveCount(0);
  await bob.goto(`/#/projects/${id}`);
  await bob.getByRole("tab", { name: /Comments/ }).click();
  await expect(thread(bob, text).getByText("Rejected", { exact: true })).toHaveCount(0);
});

test("hiding a project and following a tag", async ({ page }) => {
  const name = "Shared kiln";
  const tag = "pottery";
  await proposeByApi("alice", {
    project_name: name,
    tagline: "A kiln the whole street can fire its pots in",
    tags: [tag],
    problems: ["Kilns are expensive"],
    solutions: ["Share one"],
  });
  await signIn(page, "bob", `/?tag=${tag}`);
  const listed = page.getByRole("list", { name: "Projects" }).getByRole("link", { name });
  await expect(listed).toBeVisible();

  // Follow the tag being filtered on; the feed then has the project.
  await page.getByRole("button", { name: `Follow #${tag}` }).click();
  await expect(page.getByRole("button", { name: `Following #${tag}` })).toHaveAttribute("aria-pressed", "true");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "For you" }).click();
  await expect(page.getByRole("list", { name: "Feed" }).getByRole("link", { name })).toBeVisible();
  await expect(page.getByRole("list", { name: "Recommended projects" }).getByRole("link", { name })).toBeVisible();
  await screenshot(page, "for-you");

  // Hide it: gone from the lists, the feed and the recommendations; listed as hidden.
  await page.getByRole("list", { name: "Feed" }).getByRole("link", { name }).click();
  await page.getByRole("button", { name: "Hide from my lists" }).click();
  await expect(page.getByText("Hidden from your lists.")).toBeVisible();
  await page.goto(`/#/?tag=${tag}`);
  await expect(page.getByText("No project matches.")).toBeVisible();
  await page.goto("/#/for-you");
  await expect(page.getByText("No projects with these tags yet.")).toBeVisible();
  await expect(page.getByRole("link", { name })).toHaveCount(0);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Following" }).click();
  await expect(page.getByRole("list", { name: "Followed tags" })).toContainText(`#${tag}`);
  await expect(page.getByRole("list", { name: "Hidden projects" }).getByRole("link", { name })).toBeVisible();
  await screenshot(page, "following");

  // Unhide it and stop following.
  await page.getByRole("button", { name: `Unhide ${name}` }).click();
  await expect(page.getByText("You have hidden no projects.")).toBeVisible();
  await page.getByRole("button", { name: `Unfollow ${tag}` }).click();
  await expect(page.getByRole("list", { name: "Followed tags" })).not.toContainText(`#${tag}`);
  await page.goto(`/#/?tag=${tag}`);
  await expect(listed).toBeVisible();
  await expect(page.getByRole("button", { name: `Follow #${tag}` })).toHaveAttribute("aria-pressed", "false");
});

test("changing one's project and its tags, and withdrawing a thread", async ({ page }) => {
  const id = await proposeByApi("alice", {
    project_name: "Bike repair Saturdays",
    tagline: "Fix bikes on Saturdays",
    tags: ["bikes", "saturday"],
    problems: ["Broken bikes are thrown away", "Nobody knows how to fix a chain"],
    solutions: ["A repair café"],
  });
  await signIn(page, "alice", `/projects/${id}`);
  await page.getByRole("button", { name: "Change project" }).click();
  await page.getByLabel("Project name").fill("Repair café");
  await page.getByLabel("Tagline").fill("Fix bikes and toasters together on Saturdays");
  await page.getByRole("button", { name: "Remove tag saturday" }).click();
  await page.getByLabel("Add a tag").fill("Repair");
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Repair café" })).toBeVisible();
  await expect(page.getByText("Fix bikes and toasters together on Saturdays")).toBeVisible();
  await expect(page.getByRole("list", { name: "Tags" }).getByRole("link")).toHaveText(["#bikes", "#repair"]);

  // Withdraw one of one's own problems: it leaves the list and the count.
  await expect(page.getByRole("tab", { name: /Problems/ })).toContainText("2");
  const chain = thread(page, "Nobody knows how to fix a chain");
  await chain.getByRole("button", { name: "Withdraw", exact: true }).click();
  await chain.getByRole("button", { name: "Yes, withdraw" }).click();
  await expect(page.getByText("This thread was withdrawn.")).toBeVisible();
  await expect(page.getByRole("tab", { name: /Problems/ })).toContainText("1");
  await page.reload();
  await expect(page.getByText("Nobody knows how to fix a chain")).toHaveCount(0);
  await expect(page.getByText("Broken bikes are thrown away")).toBeVisible();

  // Bob sees the new name, and no button to change it.
  await signIn(page, "bob", `/projects/${id}`);
  await expect(page.getByRole("heading", { level: 1, name: "Repair café" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Change project" })).toHaveCount(0);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects" }).click();
  await expect(page.getByRole("list", { name: "Projects" }).getByRole("link", { name: "Repair café" })).toBeVisible();
  await screenshot(page, "projects", false);
});

test("editing one's thread: moderated again, and rejected when the edit breaks the rules", async ({ page }) => {
  const id = await proposeByApi("alice", {
    project_name: "Benches by the river",
    tagline: "Somewhere to sit on the walk along the river",
    tags: ["park"],
    problems: ["Too few benches in the park"],
    solutions: ["Benches from the old pier's timber"],
  });
  await signIn(page, "alice", `/projects/${id}`);
  // Found by its author, not its text: the text is what changes.
  const mine = page.getByRole("article", { name: "Problem by Alice" });
  await expect(mine).toContainText("Too few benches in the park");
  await mine.getByRole("button", { name: "Edit", exact: true }).click();
  await mine.getByLabel("Message").fill("Too few benches along the river path");
  await mine.getByRole("button", { name: "Save", exact: true }).click();
  await expect(mine).toContainText("Too few benches along the river path");
  await expect(page.getByText("Too few benches in the park")).toHaveCount(0);
  // Moderated again: the automatic moderator approves it.
  await expect(mine.getByText("Awaiting moderation")).toBeHidden();
  await expect(mine.getByText("Rejected", { exact: true })).toHaveCount(0);

  // An edit with a banned word is rejected, with its reason, to its author.
  await mine.getByRole("button", { name: "Edit", exact: true }).click();
  await mine.getByLabel("Message").fill("Benches against racism in the park");
  await mine.getByRole("button", { name: "Save", exact: true }).click();
  await expect(mine).toContainText("Benches against racism in the park");
  await expect(mine.getByText("Rejected", { exact: true })).toBeVisible();
  await expect(mine.getByText(/Reason: .*racism/)).toBeVisible();

  // Bob sees that it was rejected, not its text.
  await signIn(page, "bob", `/projects/${id}`);
  await expect(page.getByText("This thread was rejected by moderation.")).toBeVisible();
  await expect(page.getByText(/racism/)).toHaveCount(0);
});

test("the project list: sorts, a pasted token, and loading more", async ({ page }) => {
  // More projects than a page holds (20), so "Load more" pages by cursor.
  for (let i = 0; i < 22; i++) {
    await proposeByApi("bob", {
      project_name: `Street party ${i}`,
      tagline: `Number ${i} of many`,
      problems: ["p"],
      solutions: ["s"],
    });
  }
  await page.goto("/#/sign-in");
  await page.getByLabel("Token").fill(users.alice.token());
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await expect(page.getByRole("banner").getByText("Alice")).toBeVisible();

  await page.getByRole("searchbox", { name: "Search projects" }).fill("many");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const items = page.getByRole("list", { name: "Projects" }).getByRole("article");
  await expect(items).toHaveCount(20);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(items).toHaveCount(22);
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
  await expect(items.first()).toContainText("Street party 21");

  for (const sort of ["Top", "Active", "New"]) {
    await page.getByRole("group", { name: "Sort" }).getByRole("button", { name: sort }).click();
    await expect(page.getByRole("group", { name: "Sort" }).getByRole("button", { name: sort })).toHaveAttribute("aria-pressed", "true");
    await expect(items).toHaveCount(20);
  }
  await page.getByRole("button", { name: "clear search" }).click();
  await expect(page.getByRole("searchbox", { name: "Search projects" })).toHaveValue("");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Sign in" })).toBeVisible();
});
