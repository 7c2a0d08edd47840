"""InstanceCount, as SageMaker runs it: one container process per instance, each with its
own /opt/ml/config/resourceconfig.json; ShardedByS3Key inputs shared out, FullyReplicated
ones copied to every instance; each instance uploads its outputs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from batchops.config import load_settings

from .conftest import SKLEARN_IMAGE, processing_step, run_pipeline, s3_input, s3_output

REPORT = (
    "import json, os\n"
    "config = json.load(open('/opt/ml/config/resourceconfig.json'))\n"
    "job = json.load(open('/opt/ml/config/processingjobconfig.json'))\n"
    "files = sorted(os.listdir('/opt/ml/processing/input/data'))\n"
    "common = sorted(os.listdir('/opt/ml/processing/input/common'))\n"
    "host = config['current_host']\n"
    "os.makedirs('/opt/ml/processing/out', exist_ok=True)\n"
    "report = {'hosts': config['hosts'], 'files': files, 'common': common,\n"
    "          'job': job['ProcessingJobName']}\n"
    "open('/opt/ml/processing/out/' + host + '.json', 'w').write(json.dumps(report))\n"
    "open('/opt/ml/processing/out/same.txt', 'w').write(host)\n"
)


def _run(account, count: int, objects: int = 4) -> tuple[dict[str, Any], Any, str, str]:  # type: ignore[no-untyped-def]
    settings = load_settings("data-science")
    clients = account("data-science")
    s3 = clients.client("s3")
    base = f"{settings.bucket_prefix}/instances-test/{uuid.uuid4().hex}"
    for index in range(objects):
        s3.put_object(Bucket=settings.bucket_name, Key=f"{base}/data/part-{index}.csv", Body=b"1\n")
    s3.put_object(Bucket=settings.bucket_name, Key=f"{base}/common/spec.json", Body=b"{}")
    root = f"s3://{settings.bucket_name}/{base}"
    step = processing_step(
        "Shards",
        settings.role_arn,
        ["python3", "-c", REPORT],
        instances=count,
        inputs=[
            s3_input("data", f"{root}/data/", "/opt/ml/processing/input/data", "ShardedByS3Key"),
            s3_input("common", f"{root}/common/", "/opt/ml/processing/input/common"),
        ],
        outputs=[s3_output("out", f"{root}/out", "/opt/ml/processing/out")],
    )
    described = run_pipeline(clients, [step])
    return described, s3, settings.bucket_name, f"{base}/out"


def _read(s3, bucket: str, key: str) -> bytes:  # type: ignore[no-untyped-def]
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_two_instances_share_four_sharded_objects_and_each_has_its_own_host(account) -> None:
    described, s3, bucket, out = _run(account, 2)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    first = json.loads(_read(s3, bucket, f"{out}/algo-1.json"))
    second = json.loads(_read(s3, bucket, f"{out}/algo-2.json"))
    assert first["hosts"] == second["hosts"] == ["algo-1", "algo-2"]
    assert len(first["files"]) == len(second["files"]) == 2
    assert sorted(first["files"] + second["files"]) == [f"part-{i}.csv" for i in range(4)]
    assert first["common"] == second["common"] == ["spec.json"]  # FullyReplicated: all
    assert first["job"] == second["job"]  # one job, two instances
    # the same key from both instances: one object, the last writer's
    assert _read(s3, bucket, f"{out}/same.txt") in (b"algo-1", b"algo-2")


def test_one_instance_gets_every_object(account) -> None:
    described, s3, bucket, out = _run(account, 1)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    only = json.loads(_read(s3, bucket, f"{out}/algo-1.json"))
    assert only["hosts"] == ["algo-1"] and len(only["files"]) == 4


def test_more_instances_than_the_machine_runs_at_once_queue(account) -> None:
    described, s3, bucket, out = _run(account, 5, objects=5)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    seen = [json.loads(_read(s3, bucket, f"{out}/algo-{i}.json")) for i in range(1, 6)]
    assert [len(s["files"]) for s in seen] == [1, 1, 1, 1, 1]


def test_instance_count_zero_is_refused_as_aws_refuses_it(account) -> None:
    described, _s3, _bucket, _out = _run(account, 0)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "Member must have value greater than or equal to 1" in described["FailureReason"]


XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
INFERENCE = (
    "import os\n"
    "def model_fn(model_dir):\n"
    "    return os.getpid()\n"
    "def predict_fn(data, model):\n"
    "    return [model for _row in data]\n"
)


def _model(account, base: str) -> str:  # type: ignore[no-untyped-def]
    import io
    import tarfile

    settings = load_settings("data-science")
    clients = account("data-science")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        body = INFERENCE.encode()
        info = tarfile.TarInfo("code/inference.py")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    key = f"{base}/model/model.tar.gz"
    clients.client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=archive.getvalue())
    name = f"instances-model-{uuid.uuid4().hex[:8]}"
    clients.client("sagemaker").create_model(
        ModelName=name,
        ExecutionRoleArn=settings.role_arn,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{settings.bucket_name}/{key}",
        },
    )
    return name


def test_a_transform_on_two_instances_scores_each_of_four_objects_once(account) -> None:
    settings = load_settings("data-science")
    clients = account("data-science")
    s3 = clients.client("s3")
    base = f"{settings.bucket_prefix}/transform-instances/{uuid.uuid4().hex}"
    rows = {f"batch-{i}.csv": i + 1 for i in range(4)}
    for name, count in rows.items():
        body = "".join(f"{n},1.0\n" for n in range(count)).encode()
        s3.put_object(Bucket=settings.bucket_name, Key=f"{base}/in/{name}", Body=body)
    root = f"s3://{settings.bucket_name}/{base}"
    step = {
        "Name": "Score",
        "Type": "Transform",
        "Arguments": {
            "ModelName": _model(account, base),
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{root}/in/"}},
                "ContentType": "text/csv",
                "SplitType": "Line",
            },
            "TransformOutput": {"S3OutputPath": f"{root}/out", "Accept": "text/csv"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 2},
            "MaxConcurrentTransforms": 2,
        },
    }
    described = run_pipeline(clients, [step])
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    listed = s3.list_objects_v2(Bucket=settings.bucket_name, Prefix=f"{base}/out/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[-1] for o in listed) == [f"{n}.out" for n in rows]
    servers = set()
    for name, count in rows.items():
        lines = _read(s3, settings.bucket_name, f"{base}/out/{name}.out").decode().splitlines()
        assert len(lines) == count  # every record scored, once
        servers |= set(lines)
    assert len(servers) == 2, servers  # two instances, each its own model server process


# --- Training and Tuning: ResourceConfig.InstanceCount ---------------------------------

TRAIN = (  # file paths from the SM_* environment: a script file's text is not remapped
    "import json, os, sys\n"
    "config_dir = os.environ['SM_INPUT_CONFIG_DIR']\n"
    "config = json.load(open(os.path.join(config_dir, 'resourceconfig.json')))\n"
    "channels = json.load(open(os.path.join(config_dir, 'inputdataconfig.json')))\n"
    "host = config['current_host']\n"
    "assert os.environ['SM_CURRENT_HOST'] == host\n"
    "if os.environ.get('FAIL_ON') == host:\n"
    "    failure = os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure')\n"
    "    open(failure, 'w').write(host + ' ran out of patience')\n"
    "    sys.exit(3)\n"
    "report = {'hosts': config['hosts'], 'sm_hosts': json.loads(os.environ['SM_HOSTS']),\n"
    "          'interface': config['network_interface_name'],\n"
    "          'sm_interface': os.environ['SM_NETWORK_INTERFACE_NAME'],\n"
    "          'distribution': {n: c['S3DistributionType'] for n, c in channels.items()},\n"
    "          'train': sorted(os.listdir(os.environ['SM_CHANNEL_TRAIN'])),\n"
    "          'common': sorted(os.listdir(os.environ['SM_CHANNEL_COMMON']))}\n"
    "model = os.environ['SM_MODEL_DIR']\n"
    "open(os.path.join(model, host + '.json'), 'w').write(json.dumps(report))\n"
    "open(os.path.join(model, 'same.txt'), 'w').write(host)\n"
    "print('loss=' + str(0.5 if host == 'algo-1' else 0.9))\n"
)


def _sourcedir(s3, bucket: str, key: str) -> None:  # type: ignore[no-untyped-def]
    import io
    import tarfile

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        body = TRAIN.encode()
        info = tarfile.TarInfo("train.py")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())


def _channel(name: str, uri: str, distribution: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": distribution,
            }
        },
    }


def _training_definition(account, count: int, environment: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    settings = load_settings("data-science")
    s3 = account("data-science").client("s3")
    base = f"{settings.bucket_prefix}/training-instances/{uuid.uuid4().hex}"
    for index in range(4):
        s3.put_object(
            Bucket=settings.bucket_name, Key=f"{base}/train/part-{index}.csv", Body=b"1\n"
        )
    s3.put_object(Bucket=settings.bucket_name, Key=f"{base}/common/spec.json", Body=b"{}")
    _sourcedir(s3, settings.bucket_name, f"{base}/code/sourcedir.tar.gz")
    root = f"s3://{settings.bucket_name}/{base}"
    definition = {
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
        },
        "RoleArn": settings.role_arn,
        "HyperParameters": {
            "sagemaker_program": json.dumps("train.py"),
            "sagemaker_submit_directory": json.dumps(f"{root}/code/sourcedir.tar.gz"),
        },
        "InputDataConfig": [
            _channel("train", f"{root}/train/", "ShardedByS3Key"),
            _channel("common", f"{root}/common/", "FullyReplicated"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"{root}/out"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": count,
            "VolumeSizeInGB": 1,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 120},
        "Environment": environment or {},
    }
    return definition, s3, settings.bucket_name, f"{base}/out/"


def _fit(account, definition: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    step = {"Name": "Fit", "Type": "Training", "Arguments": definition}
    return run_pipeline(account("data-science"), [step])


def _models(s3, bucket: str, prefix: str) -> dict[str, dict[str, bytes]]:  # type: ignore[no-untyped-def]
    """Each model.tar.gz under ``prefix``: its members' bytes, by the archive's key."""
    import io
    import tarfile

    found = {}
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        if obj["Key"].endswith("/model.tar.gz"):
            body = io.BytesIO(_read(s3, bucket, obj["Key"]))
            with tarfile.open(fileobj=body, mode="r:gz") as tar:
                found[obj["Key"]] = {
                    m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                    for m in tar.getmembers()
                    if m.isfile()
                }
    return found


def test_a_training_job_on_two_instances_shards_its_channel_and_merges_their_models(
    account,
) -> None:
    definition, s3, bucket, out = _training_definition(account, 2)
    described = _fit(account, definition)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    (model,) = _models(s3, bucket, out).values()  # one model.tar.gz for the job
    first, second = json.loads(model["algo-1.json"]), json.loads(model["algo-2.json"])
    for report in (first, second):
        assert report["hosts"] == report["sm_hosts"] == ["algo-1", "algo-2"]
        assert report["interface"] == report["sm_interface"]
        assert report["distribution"] == {"train": "ShardedByS3Key", "common": "FullyReplicated"}
        assert report["common"] == ["spec.json"]  # FullyReplicated: every object
        assert len(report["train"]) == 2  # ShardedByS3Key: 1/2 of the objects
    assert sorted(first["train"] + second["train"]) == [f"part-{i}.csv" for i in range(4)]
    assert model["same.txt"] in (b"algo-1", b"algo-2")  # a clashing name: one of them


def test_one_failing_instance_fails_the_training_job_with_its_failure_file(account) -> None:
    definition, s3, bucket, out = _training_definition(account, 2, {"FAIL_ON": "algo-2"})
    described = _fit(account, definition)
    assert described["PipelineExecutionStatus"] == "Failed"
    (step,) = described["Steps"]
    assert "algo-2 ran out of patience" in step["FailureReason"]
    assert _models(s3, bucket, out) == {}  # a failed job uploads no model


def test_each_training_job_of_a_tuning_job_runs_the_definitions_instance_count(account) -> None:
    definition, s3, bucket, out = _training_definition(account, 2)
    definition["StaticHyperParameters"] = definition.pop("HyperParameters")
    step = {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {
            "HyperParameterTuningJobConfig": {
                "Strategy": "Random",
                "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
                "ParameterRanges": {
                    "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "9"}]
                },
            },
            "TrainingJobDefinition": definition,
        },
    }
    described = run_pipeline(account("data-science"), [step])
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    models = _models(s3, bucket, out)
    assert len(models) == 2  # one model.tar.gz per training job
    for model in models.values():
        assert {"algo-1.json", "algo-2.json"} <= set(model)


def test_more_training_instances_than_the_machine_runs_at_once_queue(account) -> None:
    definition, s3, bucket, out = _training_definition(account, 5)
    described = _fit(account, definition)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    (model,) = _models(s3, bucket, out).values()
    reports = [json.loads(model[f"algo-{i}.json"]) for i in range(1, 6)]
    assert [len(r["train"]) for r in reports] == [1, 1, 1, 1, 0]  # 4 objects over 5 instances


def test_training_instance_count_zero_is_refused(account) -> None:
    definition, _s3, _bucket, _out = _training_definition(account, 0)
    described = _fit(account, definition)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "greater than or equal to 1" in described["Steps"][0]["FailureReason"]
