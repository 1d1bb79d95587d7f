import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('data', '0006_slack_event_processed_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='answer',
            name='slack_continuation_ts',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=50), blank=True, default=list, help_text='The messages a long answer continues in, after the first, in order.', size=None),
        ),
    ]
