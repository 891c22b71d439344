"""The anchors' side of `make bench-compare`.

usage: anchors.py check
       anchors.py TASK ANCHOR DIR

Loads the task's input untimed, times only the work with
time.perf_counter and prints one JSON line (seconds, score, method), as
the Go worker does. `predict` is timed from outside as a whole process.
"""
import json
import os
import sys
import time


def pool_threads(api):
    """The threads of the native pool (openmp or blas) the anchors use."""
    try:
        import threadpoolctl
        for p in threadpoolctl.threadpool_info():
            if p.get("user_api") == api:
                return p.get("num_threads")
    except Exception:  # threadpoolctl missing: say so rather than guess
        pass
    return "?"


def main():
    if sys.argv[1] == "check":
        import pandas, sklearn, xgboost  # noqa: F401
        return
    task, anchor, d = sys.argv[1], sys.argv[2], sys.argv[3]
    threads = os.cpu_count()
    if task == "predict":
        predict(d)
        return
    if task == "predict_setup":
        predict_setup(d, threads)
        return
    import pandas as pd
    if task.startswith("csv_"):
        path = os.path.join(d, "num.csv" if task == "csv_numeric" else "mixed.csv")
        t, c = time.perf_counter(), time.process_time()
        df = pd.read_csv(path)
        sec, cpu = time.perf_counter() - t, time.process_time() - c
        out(sec, cpu, df.shape[0] * df.shape[1], "pandas %s, C engine, 1 thread" % pd.__version__)
        return
    kind = {"hgb_clf": "clf", "hgb_reg": "reg", "rf_clf": "clf", "ridge": "lin", "lasso": "lin", "enet": "lin"}[task]
    tr = pd.read_csv(os.path.join(d, kind + "_train.csv"))
    te = pd.read_csv(os.path.join(d, kind + "_test.csv"))
    ytr, yte = tr.pop("target").values, te.pop("target").values
    Xtr, Xte = tr.values, te.values
    classify = kind == "clf"
    coef = None
    if anchor == "xgb_hist":
        import xgboost as xgb
        cls = xgb.XGBClassifier if classify else xgb.XGBRegressor
        m = cls(n_estimators=100, max_depth=3, learning_rate=0.1, tree_method="hist", max_bin=256, n_jobs=threads)
        method = "XGBoost %s, binned splits (hist), 256 bins, nthread %d" % (xgb.__version__, threads)
    elif anchor == "sk_hgb":
        import sklearn
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        m = cls(max_iter=100, max_depth=3, early_stopping=False)
        method = "scikit-learn %s, binned splits, 255 bins, OpenMP %s threads" % (sklearn.__version__, pool_threads("openmp"))
    elif anchor == "xgb_rf":
        import xgboost as xgb
        d_ = Xtr.shape[1]
        m = xgb.XGBRFClassifier(n_estimators=100, max_depth=10, tree_method="hist", max_bin=256,
                                subsample=0.632, colsample_bynode=int(d_ ** 0.5) / d_, n_jobs=threads)
        method = "XGBoost %s RF mode (a tree per class), binned splits (hist), 256 bins, subsample 0.632, nthread %d" % (xgb.__version__, threads)
    elif anchor == "sk_ridge":
        import sklearn
        from sklearn.linear_model import Ridge
        m = Ridge(alpha=1.0)
        method = "scikit-learn %s, no tree splits: solver auto, OpenBLAS %s threads" % (sklearn.__version__, pool_threads("blas"))
    elif anchor == "sk_lasso":
        import sklearn
        from sklearn.linear_model import Lasso
        m = Lasso(alpha=0.01)
        method = "scikit-learn %s, no tree splits: coordinate descent, 1 thread" % sklearn.__version__
    elif anchor == "sk_enet":
        import sklearn
        from sklearn.linear_model import ElasticNet
        m = ElasticNet(alpha=0.01, l1_ratio=0.5)
        method = "scikit-learn %s, no tree splits: coordinate descent, 1 thread" % sklearn.__version__
    else:
        raise SystemExit("unknown anchor " + anchor)
    t, c = time.perf_counter(), time.process_time()
    m.fit(Xtr, ytr)
    sec, cpu = time.perf_counter() - t, time.process_time() - c
    pred = m.predict(Xte)
    if classify:
        score = float((pred == yte).mean())
    else:
        score = float(1 - ((yte - pred) ** 2).sum() / ((yte - yte.mean()) ** 2).sum())
    if hasattr(m, "coef_"):
        coef = [float(m.intercept_)] + [float(c) for c in m.coef_]
    out(sec, cpu, score, method, coef)


def out(sec, cpu, score, method, coef=None):
    r = {"seconds": sec, "cpu_seconds": cpu, "score": score, "method": method}
    if coef is not None:
        r["coef"] = coef
    print(json.dumps(r))


def predict_setup(d, threads):
    import joblib
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    tr = pd.read_csv(os.path.join(d, "clf_train.csv"))
    y = tr.pop("target")
    m = RandomForestClassifier(n_estimators=100, max_depth=10, n_jobs=threads, random_state=1).fit(tr, y)
    joblib.dump(m, os.path.join(d, "forest.joblib"))


def predict(d):
    # The whole process is timed: imports, load, score, write.
    import joblib
    import numpy as np
    import pandas as pd
    m = joblib.load(os.path.join(d, "forest.joblib"))
    df = pd.read_csv(os.path.join(d, "predict.csv"))
    p = m.predict_proba(df[m.feature_names_in_])
    df["prediction"] = m.classes_[np.argmax(p, axis=1)]
    for k, c in enumerate(m.classes_):
        df["proba_%s" % c] = p[:, k]
    df.to_csv(os.path.join(d, "joblib_out.csv"), index=False)


if __name__ == "__main__":
    main()
