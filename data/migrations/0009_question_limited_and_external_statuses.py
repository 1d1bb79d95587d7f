from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0008_knowledge_index_refresh_marker"),
    ]

    operations = [
        migrations.AlterField(
            model_name="question",
            name="status",
            field=models.CharField(
                choices=[
                    ("RECEIVED", "Received"),
                    ("PROCESSING", "Processing"),
                    ("ANSWERED", "Answered"),
                    ("UNDELIVERED", "Undelivered"),
                    ("FAILED", "Failed"),
                    ("LIMITED", "Over a limit"),
                    ("EXTERNAL", "External user"),
                ],
                default="RECEIVED",
                max_length=20,
            ),
        ),
    ]
