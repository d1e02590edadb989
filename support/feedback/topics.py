"""Topics of a week: tickets clustered by their words (TF-IDF + k-means, scikit-learn),
each cluster named by its top terms and marked new, growing, steady or fading against
the weeks before.

The earlier weeks' tickets are assigned to this week's clusters (cosine similarity to
the centroid, above `MATCH` or "other"), so a topic's history is counted with the same
words that define it. A topic with no history is new; one at least half again above
its earlier weekly average is growing; one at most two thirds of it is fading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MATCH = 0.2  # cosine similarity to a centroid that counts as the same topic
MAX_TOPICS = 8
MIN_TICKETS = 3  # fewer tickets than this in a cluster: not a topic
SEED = 17


@dataclass
class Topic:
    name: str
    terms: list[str]
    tickets: int
    prior_avg: float  # tickets per week in the earlier weeks
    trend: str  # new | growing | steady | fading
    refs: list[str]

    def as_dict(self) -> dict:
        return {"name": self.name, "terms": self.terms, "tickets": self.tickets, "prior_avg": round(self.prior_avg, 2),
                "trend": self.trend, "new": self.trend == "new", "growing": self.trend in ("new", "growing"),
                "fading": self.trend == "fading", "refs": self.refs[:20]}


def trend(now: int, prior_avg: float) -> str:
    if prior_avg < 0.5:
        return "new" if now >= MIN_TICKETS else "steady"
    if now >= 1.5 * prior_avg and now - prior_avg >= 2:
        return "growing"
    if now <= prior_avg / 1.5:
        return "fading"
    return "steady"


def cluster(texts: list[str], refs: list[str], prior_texts: list[str], prior_weeks: int,
            *, max_topics: int = MAX_TOPICS, stop_words=None) -> list[Topic]:
    """This week's `texts` as topics, with their trend against `prior_texts` (the
    `prior_weeks` weeks before, any order)."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < MIN_TICKETS:
        return []
    vectorizer = TfidfVectorizer(stop_words=stop_words or "english", max_features=5000, min_df=2,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]{2,}\b", sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no term in two tickets: nothing clusters
        return []
    k = max(1, min(max_topics, int(math.sqrt(len(texts) / 2)) + 1, matrix.shape[0]))
    model = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(matrix)
    terms = np.array(vectorizer.get_feature_names_out())
    centroids = model.cluster_centers_ / np.maximum(np.linalg.norm(model.cluster_centers_, axis=1, keepdims=True), 1e-9)
    prior_counts = np.zeros(k)
    if prior_texts:
        similarity = vectorizer.transform(prior_texts) @ centroids.T
        best = np.asarray(similarity.argmax(axis=1)).ravel()
        strong = np.asarray(similarity.max(axis=1)).ravel() >= MATCH
        prior_counts = np.bincount(best[strong], minlength=k).astype(float)
    topics = []
    for c in range(k):
        members = np.flatnonzero(model.labels_ == c)
        if len(members) < MIN_TICKETS:
            continue
        top = [str(t) for t in terms[np.argsort(model.cluster_centers_[c])[::-1][:3]]]
        prior_avg = prior_counts[c] / max(prior_weeks, 1)
        topics.append(Topic(" · ".join(top), top, len(members), float(prior_avg), trend(len(members), prior_avg),
                            [refs[i] for i in members]))
    return sorted(_merge_alike(topics), key=lambda t: -t.tickets)


def _merge_alike(found: list[Topic]) -> list[Topic]:
    """Clusters named by the same top terms are one topic (k-means may split a big one)."""
    by_name: dict[str, Topic] = {}
    for topic in found:
        same = by_name.get(topic.name)
        if same is None:
            by_name[topic.name] = topic
            continue
        same.tickets += topic.tickets
        same.prior_avg += topic.prior_avg
        same.refs += topic.refs
        same.trend = trend(same.tickets, same.prior_avg)
    return list(by_name.values())
